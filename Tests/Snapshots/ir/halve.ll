; ModuleID = 'halve'
source_filename = "halve"

@filterjit_cancel_flag = external global i32

define internal i1 @filterjit.f0.halve(i8* %0, i64* %1, i64 %2, double* %3, i64 %4, double %5) {
entry:
  %out_coords = alloca i64*, align 8
  %out_coords.len = alloca i64, align 8
  store i64* null, i64** %out_coords, align 8
  store i64 0, i64* %out_coords.len, align 4
  %in_coords = alloca double*, align 8
  %in_coords.len = alloca i64, align 8
  store double* null, double** %in_coords, align 8
  store i64 0, i64* %in_coords.len, align 4
  %shift = alloca double, align 8
  store double 0.000000e+00, double* %shift, align 8
  %j = alloca i64, align 8
  store i64 0, i64* %j, align 4
  store i64* %1, i64** %out_coords, align 8
  store i64 %2, i64* %out_coords.len, align 4
  store double* %3, double** %in_coords, align 8
  store i64 %4, i64* %in_coords.len, align 4
  store double %5, double* %shift, align 8
  %range.counter = alloca i64, align 8
  %range.iterations = alloca i64, align 8
  br label %body

body:                                             ; preds = %entry
  %6 = load i64*, i64** %out_coords, align 8
  %7 = load i64, i64* %out_coords.len, align 4
  br i1 true, label %ok, label %fail

ok:                                               ; preds = %body
  store i64 0, i64* %range.counter, align 4
  store i64 0, i64* %range.iterations, align 4
  br label %range

fail:                                             ; preds = %body
  call void @filterjit_fail(i32 3, i64 0, i64 1, i64 0, i64 0)
  ret i1 false

range:                                            ; preds = %poll.done, %ok
  %8 = load i64, i64* %range.counter, align 4
  %9 = icmp slt i64 %8, %7
  %10 = icmp sgt i64 %8, %7
  %11 = select i1 true, i1 %9, i1 %10
  br i1 %11, label %range.body, label %range.exit

range.body:                                       ; preds = %range
  store i64 %8, i64* %j, align 4
  %12 = load i64*, i64** %out_coords, align 8
  %13 = load i64, i64* %out_coords.len, align 4
  %14 = load i64, i64* %j, align 4
  %15 = icmp slt i64 %14, 0
  %16 = add i64 %14, %13
  %17 = select i1 %15, i64 %16, i64 %14
  %18 = icmp ult i64 %17, %13
  br i1 %18, label %ok1, label %fail2

range.next:                                       ; preds = %ok3
  %19 = load i64, i64* %range.iterations, align 4
  %20 = add i64 %19, 1
  store i64 %20, i64* %range.iterations, align 4
  %21 = and i64 %20, 65535
  %22 = icmp eq i64 %21, 0
  br i1 %22, label %poll, label %poll.done

range.exit:                                       ; preds = %poll.done, %range
  ret i1 true

ok1:                                              ; preds = %range.body
  %23 = getelementptr inbounds i64, i64* %12, i64 %17
  %24 = load i64, i64* %23, align 4
  %25 = sitofp i64 %24 to double
  %26 = fmul double %25, 5.000000e-01
  %27 = load double, double* %shift, align 8
  %28 = fadd double %26, %27
  %29 = load double*, double** %in_coords, align 8
  %30 = load i64, i64* %in_coords.len, align 4
  %31 = load i64, i64* %j, align 4
  %32 = icmp slt i64 %31, 0
  %33 = add i64 %31, %30
  %34 = select i1 %32, i64 %33, i64 %31
  %35 = icmp ult i64 %34, %30
  br i1 %35, label %ok3, label %fail4

fail2:                                            ; preds = %range.body
  call void @filterjit_fail(i32 0, i64 0, i64 1, i64 %14, i64 %13)
  ret i1 false

ok3:                                              ; preds = %ok1
  %36 = getelementptr inbounds double, double* %29, i64 %34
  store double %28, double* %36, align 8
  br label %range.next

fail4:                                            ; preds = %ok1
  call void @filterjit_fail(i32 0, i64 0, i64 1, i64 %31, i64 %30)
  ret i1 false

poll:                                             ; preds = %range.next
  %37 = load atomic i32, i32* @filterjit_cancel_flag monotonic, align 4
  %38 = icmp eq i32 %37, 0
  br i1 %38, label %ok5, label %fail6

poll.done:                                        ; preds = %ok5, %range.next
  %39 = load i64, i64* %range.counter, align 4
  %40 = call { i64, i1 } @llvm.sadd.with.overflow.i64(i64 %39, i64 1)
  %41 = extractvalue { i64, i1 } %40, 0
  store i64 %41, i64* %range.counter, align 4
  %42 = extractvalue { i64, i1 } %40, 1
  br i1 %42, label %range.exit, label %range

ok5:                                              ; preds = %poll
  br label %poll.done

fail6:                                            ; preds = %poll
  call void @filterjit_fail(i32 8, i64 0, i64 1, i64 0, i64 0)
  ret i1 false
}

declare void @filterjit_fail(i32, i64, i64, i64, i64)

; Function Attrs: nofree nosync nounwind readnone speculatable willreturn
declare { i64, i1 } @llvm.sadd.with.overflow.i64(i64, i64) #0

define i32 @halve(i64* %0, double* %1, i32 %2, i32 %3, i8* %4) {
entry:
  %arena = alloca [2 x i64], align 8
  store [2 x i64] zeroinitializer, [2 x i64]* %arena, align 4
  %5 = bitcast [2 x i64]* %arena to i8*
  %6 = sext i32 %2 to i64
  %7 = icmp slt i64 %6, 0
  %8 = select i1 %7, i64 0, i64 %6
  %9 = sext i32 %3 to i64
  %10 = icmp slt i64 %9, 0
  %11 = select i1 %10, i64 0, i64 %9
  br label %loop

loop:                                             ; preds = %loop.body, %entry
  %12 = phi i64 [ 0, %entry ], [ %15, %loop.body ]
  %13 = icmp slt i64 %12, %11
  br i1 %13, label %loop.body, label %loop.exit

loop.body:                                        ; preds = %loop
  %14 = getelementptr inbounds double, double* %1, i64 %12
  store double 0.000000e+00, double* %14, align 8
  %15 = add i64 %12, 1
  br label %loop

loop.exit:                                        ; preds = %loop
  %16 = bitcast i8* %4 to double*
  %17 = icmp eq i8* %4, null
  br i1 %17, label %param.default, label %param.load

fail:                                             ; preds = %param.merge
  ret i32 0

param.load:                                       ; preds = %loop.exit
  %18 = getelementptr inbounds double, double* %16, i64 0
  %19 = load double, double* %18, align 8
  br label %param.merge

param.default:                                    ; preds = %loop.exit
  br label %param.merge

param.merge:                                      ; preds = %param.default, %param.load
  %20 = phi double [ %19, %param.load ], [ 2.500000e-01, %param.default ]
  %21 = call i1 @filterjit.f0.halve(i8* %5, i64* %0, i64 %8, double* %1, i64 %11, double %20)
  br i1 %21, label %success, label %fail

success:                                          ; preds = %param.merge
  ret i32 1
}

attributes #0 = { nofree nosync nounwind readnone speculatable willreturn }
