; ModuleID = 'spin'
source_filename = "spin"

@filterjit_cancel_flag = external global i32

define internal i1 @filterjit.f0.spin(i8* %0, double* %1, double* %2, i64 %3) {
entry:
  %values = alloca double*, align 8
  %values.len = alloca i64, align 8
  store double* null, double** %values, align 8
  store i64 0, i64* %values.len, align 4
  store double* %2, double** %values, align 8
  store i64 %3, i64* %values.len, align 4
  br label %body

body:                                             ; preds = %entry
  br label %while

while:                                            ; preds = %while.body, %body
  %4 = load atomic i32, i32* @filterjit_cancel_flag monotonic, align 4
  %5 = icmp eq i32 %4, 0
  br i1 %5, label %ok, label %fail

while.body:                                       ; preds = %ok
  br label %while

while.exit:                                       ; preds = %ok
  store double 1.000000e+00, double* %1, align 8
  ret i1 true

ok:                                               ; preds = %while
  br i1 true, label %while.body, label %while.exit

fail:                                             ; preds = %while
  call void @filterjit_fail(i32 8, i64 0, i64 1, i64 0, i64 0)
  ret i1 false

dead:                                             ; No predecessors!
  call void @filterjit_fail(i32 10, i64 0, i64 10, i64 0, i64 0)
  ret i1 false
}

declare void @filterjit_fail(i32, i64, i64, i64, i64)

define i32 @spin(double* %0, i64 %1, double* %2, i8* %3) {
entry:
  %arena = alloca [2 x i64], align 8
  store [2 x i64] zeroinitializer, [2 x i64]* %arena, align 4
  %4 = bitcast [2 x i64]* %arena to i8*
  %result = alloca double, align 8
  %5 = icmp slt i64 %1, 0
  %6 = select i1 %5, i64 0, i64 %1
  %7 = bitcast i8* %3 to double*
  %8 = icmp eq i8* %3, null
  %9 = call i1 @filterjit.f0.spin(i8* %4, double* %result, double* %0, i64 %6)
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
