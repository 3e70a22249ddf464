/* A C caller of include/filterjit.h (built and run by test_c_api.py): compiles a kernel, reads its
 * interface, filters a 4x5 image with a 3x3 minimum and prints the result; errors are printed too. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "filterjit.h"

int main(void) {
    char *error = NULL;
    int status = -1;
    filterjit_engine *engine = filterjit_engine_create(&error);
    if (!engine) { printf("engine: %s\n", error); return 1; }

    filterjit_kernel *broken = filterjit_compile(engine, "def f(values):\n    return valuez\n", NULL, "broken.filter", 10,
                                                 &status, &error);
    printf("broken: %s status %d\n", broken ? "compiled" : "rejected", status);
    printf("%s", error);
    filterjit_string_free(error);

    filterjit_kernel *kernel = filterjit_compile(engine, "def low(values, bias=0.5, k=2):\n    return min(values) + bias * k\n",
                                                 NULL, NULL, 0, &status, &error);
    if (!kernel) { printf("compile: %s\n", error); return 1; }
    filterjit_engine_free(engine); /* the kernel outlives its engine */
    printf("kind %d name %s params %ld\n", filterjit_kernel_kind(kernel), filterjit_kernel_name(kernel),
           (long)filterjit_kernel_parameter_count(kernel));
    for (intptr_t i = 0; i < filterjit_kernel_parameter_count(kernel); i++)
        printf("  %s type %d default %g\n", filterjit_kernel_parameter_name(kernel, i),
               filterjit_kernel_parameter_type(kernel, i), filterjit_kernel_parameter_default(kernel, i));

    /* The SciPy ABI through the address. */
    int (*function)(double *, intptr_t, double *, void *) = (int (*)(double *, intptr_t, double *, void *))filterjit_kernel_address(kernel);
    double window[3] = {3.0, 1.0, 2.0}, result = 0, user_data[2] = {0.25, 4};
    int called = function(window, 3, &result, user_data);
    printf("call %d result %g\n", called, result);

    double image[20], output[20];
    for (int i = 0; i < 20; i++) image[i] = (i * 7) % 11;
    intptr_t shape[2] = {4, 5}, strides[2] = {5 * sizeof(double), sizeof(double)};
    uint8_t footprint[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    intptr_t footprint_shape[2] = {3, 3};
    double parameters[2] = {0.0, 1};
    status = filterjit_generic_filter(kernel, image, FILTERJIT_FLOAT64, 2, shape, strides, output, FILTERJIT_FLOAT64, strides,
                                      footprint, 2, footprint_shape, NULL, NULL, FILTERJIT_MODE_NEAREST, 0.0,
                                      parameters, 2, FILTERJIT_ENGINE_FUSED, 2, &error);
    printf("filter status %d:", status);
    for (int i = 0; i < 20; i++) printf(" %g", output[i]);
    printf("\n");
    status = filterjit_generic_filter1d(kernel, image, FILTERJIT_FLOAT64, 2, shape, strides, output, FILTERJIT_FLOAT64,
                                        strides, 3, -1, FILTERJIT_MODE_REFLECT, 0.0, 0, NULL, 0, 0, 1, &error);
    printf("wrong kind status %d: %s\n", status, error);
    filterjit_string_free(error);
    filterjit_kernel_free(kernel);
    return 0;
}
