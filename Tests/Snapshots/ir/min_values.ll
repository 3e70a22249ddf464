; ModuleID = 'min_values'
source_filename = "min_values"

define internal i1 @filterjit.f0.expression(i8* %0, double* %1, double* %2, i64 %3) {
entry:
  %values = alloca double*, align 8
  %values.len = alloca i64, align 8
  store double* null, double** %values, align 8
  store i64 0, i64* %values.len, align 4
  store double* %2, double** %values, align 8
  store i64 %3, i64* %values.len, align 4
  br label %body

body:                                             ; preds = %entry
  %4 = load double*, double** %values, align 8
  %5 = load i64, i64* %values.len, align 4
  %6 = icmp sgt i64 %5, 0
  br i1 %6, label %ok, label %fail

ok:                                               ; preds = %body
  %7 = getelementptr inbounds double, double* %4, i64 0
  %8 = load double, double* %7, align 8
  br label %loop

fail:                                             ; preds = %body
  call void @filterjit_fail(i32 4, i64 0, i64 1, i64 0, i64 0)
  ret i1 false

loop:                                             ; preds = %loop.body, %ok
  %9 = phi i64 [ 1, %ok ], [ %16, %loop.body ]
  %10 = phi double [ %8, %ok ], [ %15, %loop.body ]
  %11 = icmp slt i64 %9, %5
  br i1 %11, label %loop.body, label %loop.exit

loop.body:                                        ; preds = %loop
  %12 = getelementptr inbounds double, double* %4, i64 %9
  %13 = load double, double* %12, align 8
  %14 = fcmp olt double %13, %10
  %15 = select i1 %14, double %13, double %10
  %16 = add i64 %9, 1
  br label %loop

loop.exit:                                        ; preds = %loop
  store double %10, double* %1, align 8
  ret i1 true

dead:                                             ; No predecessors!
  call void @filterjit_fail(i32 10, i64 0, i64 10, i64 0, i64 0)
  ret i1 false
}

declare void @filterjit_fail(i32, i64, i64, i64, i64)

define i32 @min_values(double* %0, i64 %1, double* %2, i8* %3) {
entry:
  %arena = alloca [2 x i64], align 8
  store [2 x i64] zeroinitializer, [2 x i64]* %arena, align 4
  %4 = bitcast [2 x i64]* %arena to i8*
  %result = alloca double, align 8
  %5 = icmp slt i64 %1, 0
  %6 = select i1 %5, i64 0, i64 %1
  %7 = bitcast i8* %3 to double*
  %8 = icmp eq i8* %3, null
  %9 = call i1 @filterjit.f0.expression(i8* %4, double* %result, double* %0, i64 %6)
  br i1 %9, label %success, label %fail

fail:                                             ; preds = %entry
  ret i32 0

success:                                          ; preds = %entry
  %10 = load double, double* %result, align 8
  %11 = icmp eq double* %2, null
  br i1 %11, label %done, label %store

store:                                            ; preds = %success
  store double %10, double* %2, align 8
  br label %done

done:                                             ; preds = %store, %success
  ret i32 1
}
