; ModuleID = 'line_sum'
source_filename = "line_sum"

@filterjit_cancel_flag = external global i32

define internal i1 @filterjit.f0.line_sum(i8* %0, double* %1, i64 %2, double* %3, i64 %4, double %5) {
entry:
  %line = alloca double*, align 8
  %line.len = alloca i64, align 8
  store double* null, double** %line, align 8
  store i64 0, i64* %line.len, align 4
  %out = alloca double*, align 8
  %out.len = alloca i64, align 8
  store double* null, double** %out, align 8
  store i64 0, i64* %out.len, align 4
  %scale = alloca double, align 8
  store double 0.000000e+00, double* %scale, align 8
  %i = alloca i64, align 8
  store i64 0, i64* %i, align 4
  store double* %1, double** %line, align 8
  store i64 %2, i64* %line.len, align 4
  store double* %3, double** %out, align 8
  store i64 %4, i64* %out.len, align 4
  store double %5, double* %scale, align 8
  %range.counter = alloca i64, align 8
  %range.iterations = alloca i64, align 8
  br label %body

body:                                             ; preds = %entry
  %6 = load double*, double** %out, align 8
  %7 = load i64, i64* %out.len, align 4
  %8 = sub i64 %7, 1
  br i1 true, label %ok, label %fail

ok:                                               ; preds = %body
  store i64 0, i64* %range.counter, align 4
  store i64 0, i64* %range.iterations, align 4
  br label %range

fail:                                             ; preds = %body
  call void @filterjit_fail(i32 3, i64 0, i64 1, i64 0, i64 0)
  ret i1 false

range:                                            ; preds = %poll.done, %ok
  %9 = load i64, i64* %range.counter, align 4
  %10 = icmp slt i64 %9, %8
  %11 = icmp sgt i64 %9, %8
  %12 = select i1 true, i1 %10, i1 %11
  br i1 %12, label %range.body, label %range.exit

range.body:                                       ; preds = %range
  store i64 %9, i64* %i, align 4
  %13 = load double*, double** %line, align 8
  %14 = load i64, i64* %line.len, align 4
  %15 = load i64, i64* %i, align 4
  %16 = icmp slt i64 %15, 0
  %17 = add i64 %15, %14
  %18 = select i1 %16, i64 %17, i64 %15
  %19 = icmp ult i64 %18, %14
  br i1 %19, label %ok1, label %fail2

range.next:                                       ; preds = %ok5
  %20 = load i64, i64* %range.iterations, align 4
  %21 = add i64 %20, 1
  store i64 %21, i64* %range.iterations, align 4
  %22 = and i64 %21, 65535
  %23 = icmp eq i64 %22, 0
  br i1 %23, label %poll, label %poll.done

range.exit:                                       ; preds = %poll.done, %range
  ret i1 true

ok1:                                              ; preds = %range.body
  %24 = getelementptr inbounds double, double* %13, i64 %18
  %25 = load double, double* %24, align 8
  %26 = load double*, double** %line, align 8
  %27 = load i64, i64* %line.len, align 4
  %28 = load i64, i64* %i, align 4
  %29 = add i64 %28, 2
  %30 = icmp slt i64 %29, 0
  %31 = add i64 %29, %27
  %32 = select i1 %30, i64 %31, i64 %29
  %33 = icmp ult i64 %32, %27
  br i1 %33, label %ok3, label %fail4

fail2:                                            ; preds = %range.body
  call void @filterjit_fail(i32 0, i64 0, i64 1, i64 %15, i64 %14)
  ret i1 false

ok3:                                              ; preds = %ok1
  %34 = getelementptr inbounds double, double* %26, i64 %32
  %35 = load double, double* %34, align 8
  %36 = load double, double* %scale, align 8
  %37 = fmul double %35, %36
  %38 = fadd double %25, %37
  %39 = load double*, double** %out, align 8
  %40 = load i64, i64* %out.len, align 4
  %41 = load i64, i64* %i, align 4
  %42 = icmp slt i64 %41, 0
  %43 = add i64 %41, %40
  %44 = select i1 %42, i64 %43, i64 %41
  %45 = icmp ult i64 %44, %40
  br i1 %45, label %ok5, label %fail6

fail4:                                            ; preds = %ok1
  call void @filterjit_fail(i32 0, i64 0, i64 1, i64 %29, i64 %27)
  ret i1 false

ok5:                                              ; preds = %ok3
  %46 = getelementptr inbounds double, double* %39, i64 %44
  store double %38, double* %46, align 8
  br label %range.next

fail6:                                            ; preds = %ok3
  call void @filterjit_fail(i32 0, i64 0, i64 1, i64 %41, i64 %40)
  ret i1 false

poll:                                             ; preds = %range.next
  %47 = load atomic i32, i32* @filterjit_cancel_flag monotonic, align 4
  %48 = icmp eq i32 %47, 0
  br i1 %48, label %ok7, label %fail8

poll.done:                                        ; preds = %ok7, %range.next
  %49 = load i64, i64* %range.counter, align 4
  %50 = call { i64, i1 } @llvm.sadd.with.overflow.i64(i64 %49, i64 1)
  %51 = extractvalue { i64, i1 } %50, 0
  store i64 %51, i64* %range.counter, align 4
  %52 = extractvalue { i64, i1 } %50, 1
  br i1 %52, label %range.exit, label %range

ok7:                                              ; preds = %poll
  br label %poll.done

fail8:                                            ; preds = %poll
  call void @filterjit_fail(i32 8, i64 0, i64 1, i64 0, i64 0)
  ret i1 false
}

declare void @filterjit_fail(i32, i64, i64, i64, i64)

; Function Attrs: nofree nosync nounwind readnone speculatable willreturn
declare { i64, i1 } @llvm.sadd.with.overflow.i64(i64, i64) #0

define i32 @line_sum(double* %0, i64 %1, double* %2, i64 %3, i8* %4) {
entry:
  %arena = alloca [2 x i64], align 8
  store [2 x i64] zeroinitializer, [2 x i64]* %arena, align 4
  %5 = bitcast [2 x i64]* %arena to i8*
  %6 = icmp slt i64 %3, 0
  %7 = select i1 %6, i64 0, i64 %3
  br label %loop

loop:                                             ; preds = %loop.body, %entry
  %8 = phi i64 [ 0, %entry ], [ %11, %loop.body ]
  %9 = icmp slt i64 %8, %7
  br i1 %9, label %loop.body, label %loop.exit

loop.body:                                        ; preds = %loop
  %10 = getelementptr inbounds double, double* %2, i64 %8
  store double 0.000000e+00, double* %10, align 8
  %11 = add i64 %8, 1
  br label %loop

loop.exit:                                        ; preds = %loop
  %12 = icmp slt i64 %1, 0
  %13 = select i1 %12, i64 0, i64 %1
  %14 = bitcast i8* %4 to double*
  %15 = icmp eq i8* %4, null
  br i1 %15, label %param.default, label %param.load

fail:                                             ; preds = %param.merge
  ret i32 0

param.load:                                       ; preds = %loop.exit
  %16 = getelementptr inbounds double, double* %14, i64 0
  %17 = load double, double* %16, align 8
  br label %param.merge

param.default:                                    ; preds = %loop.exit
  br label %param.merge

param.merge:                                      ; preds = %param.default, %param.load
  %18 = phi double [ %17, %param.load ], [ 1.000000e+00, %param.default ]
  %19 = call i1 @filterjit.f0.line_sum(i8* %5, double* %0, i64 %13, double* %2, i64 %7, double %18)
  br i1 %19, label %success, label %fail

success:                                          ; preds = %param.merge
  ret i32 1
}

attributes #0 = { nofree nosync nounwind readnone speculatable willreturn }
