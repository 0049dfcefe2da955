/* bench_gemm.c: GEMM micro-benchmark (being written). */
int main(void) { return 0; }
