{
  # Native backend: N-API addon over CBLAS. The BLAS library defaults to OpenBLAS
  # (Debian: libopenblas-dev); FIMKIT_BLAS_LIB=<name> links -l<name> instead.
  "targets": [
    {
      "target_name": "fimkit_native",
      "sources": ["native/fimkit_native.c"],
      "cflags_c": ["-std=gnu11", "-O3", "-ffp-contract=off", "-fno-math-errno", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": [
        "-l<!(node -p \"process.env.FIMKIT_BLAS_LIB || 'openblas'\")",
        "-lm"
      ]
    }
  ]
}
