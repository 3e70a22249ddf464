; ModuleID = 'weighted'
source_filename = "weighted"

define internal i1 @filterjit.f0.weighted(i8* %0, double* %1, double* %2, i64 %3, double %4, i64 %5) {
entry:
  %values = alloca double*, align 8
  %values.len = alloca i64, align 8
  store double* null, double** %values, align 8
  store i64 0, i64* %values.len, align 4
  %t = alloca double, align 8
  store double 0.000000e+00, double* %t, align 8
  %k = alloca i64, align 8
  store i64 0, i64* %k, align 4
  store double* %2, double** %values, align 8
  store i64 %3, i64* %values.len, align 4
  store double %4, double* %t, align 8
  store i64 %5, i64* %k, align 4
  br label %body

body:                                             ; preds = %entry
  %6 = load double*, double** %values, align 8
  %7 = load i64, i64* %values.len, align 4
  %8 = add i64 0, %7
  %9 = select i1 false, i64 %8, i64 0
  %10 = icmp ult i64 %9, %7
  br i1 %10, label %ok, label %fail

ok:                                               ; preds = %body
  %11 = getelementptr inbounds double, double* %6, i64 %9
  %12 = load double, double* %11, align 8
  %13 = load double, double* %t, align 8
  %14 = fmul double %12, %13
  %15 = load i64, i64* %k, align 4
  %16 = sitofp i64 %15 to double
  %17 = fadd double %14, %16
  store double %17, double* %1, align 8
  ret i1 true

fail:                                             ; preds = %body
  call void @filterjit_fail(i32 0, i64 0, i64 1, i64 0, i64 %7)
  ret i1 false

dead:                                             ; No predecessors!
  call void @filterjit_fail(i32 10, i64 0, i64 10, i64 0, i64 0)
  ret i1 false
}

declare void @filterjit_fail(i32, i64, i64, i64, i64)

define i32 @weighted(double* %0, i64 %1, double* %2, i8* %3) {
entry:
  %arena = alloca [2 x i64], align 8
  store [2 x i64] zeroinitializer, [2 x i64]* %arena, align 4
  %4 = bitcast [2 x i64]* %arena to i8*
  %result = alloca double, align 8
  %5 = icmp slt i64 %1, 0
  %6 = select i1 %5, i64 0, i64 %1
  %7 = bitcast i8* %3 to double*
  %8 = icmp eq i8* %3, null
  br i1 %8, label %param.default, label %param.load

fail:                                             ; preds = %param.ok, %param.bad
  ret i32 0

param.load:                                       ; preds = %entry
  %9 = getelementptr inbounds double, double* %7, i64 0
  %10 = load double, double* %9, align 8
  br label %param.merge

param.default:                                    ; preds = %entry
  br label %param.merge

param.merge:                                      ; preds = %param.default, %param.load
  %11 = phi double [ %10, %param.load ], [ 5.000000e-01, %param.default ]
  br i1 %8, label %param.default2, label %param.load1

param.load1:                                      ; preds = %param.merge
  %12 = getelementptr inbounds double, double* %7, i64 1
  %13 = load double, double* %12, align 8
  br label %param.merge3

param.default2:                                   ; preds = %param.merge
  br label %param.merge3

param.merge3:                                     ; preds = %param.default2, %param.load1
  %14 = phi double [ %13, %param.load1 ], [ 3.000000e+00, %param.default2 ]
  %15 = fcmp oge double %14, 0xC3E0000000000000
  %16 = fcmp olt double %14, 0x43E0000000000000
  %17 = and i1 %15, %16
  br i1 %17, label %param.ok, label %param.bad

param.ok:                                         ; preds = %param.merge3
  %18 = fptosi double %14 to i64
  %19 = call i1 @filterjit.f0.weighted(i8* %4, double* %result, double* %0, i64 %6, double %11, i64 %18)
  br i1 %19, label %success, label %fail

param.bad:                                        ; preds = %param.merge3
  %20 = bitcast double %14 to i64
  call void @filterjit_fail(i32 9, i64 0, i64 10, i64 1, i64 %20)
  br label %fail

success:                                          ; preds = %param.ok
  %21 = load double, double* %result, align 8
  %22 = icmp eq double* %2, null
  br i1 %22, label %done, label %store

store:                                            ; preds = %success
  store double %21, double* %2, align 8
  br label %done

done:                                             ; preds = %store, %success
  ret i32 1
}
