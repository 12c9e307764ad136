// Golden-vector harness: runs ggml's own reference quantizers on f32 values read from stdin and
// writes the encoded bytes to stdout ("dq4_K" etc.: K-quant bytes in, dequantized f32 out).
// Used only by gen.mts to regenerate golden.ts; it is not built by the project. Build against a ggml checkout (github.com/ggml-org/ggml, tested at d99724f2):
//   gcc -O2 -ffp-contract=off -std=gnu11 -I$GGML/include -I$GGML/src -c $GGML/src/ggml-quants.c -o quants.o
//   gcc -O2 -ffp-contract=off -std=gnu11 -I$GGML/include -I$GGML/src harness.c quants.o -lm -o harness
// or link the libggml-base.so node-llama-cpp ships (headers from a ggml or llama.cpp checkout;
// the stubs below then shadow the library's own):
//   BINS=node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
//   gcc -O2 -ffp-contract=off -std=gnu11 -I$GGML/include -I$GGML/src harness.c -L$BINS -lggml-base -Wl,-rpath,$PWD/$BINS -lm -o harness
// Both give the same bytes for every hash in golden.ts (checked with llama.cpp 80fb11ac's headers).
// -ffp-contract=off keeps a*b+c unfused, i.e. ggml's portable float semantics (an FMA build
// rounds a few values differently).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include "ggml.h"
#include "ggml-quants.h"
#include "ggml-impl.h"
// Stubs for the few ggml symbols ggml-quants.o references outside the functions used here.
void ggml_abort(const char * file, int line, const char * fmt, ...) { fprintf(stderr, "abort %s:%d\n", file, line); abort(); }
size_t ggml_row_size(enum ggml_type type, int64_t ne) { abort(); }
const char * ggml_type_name(enum ggml_type type) { return "?"; }
size_t ggml_type_size(enum ggml_type type) { abort(); }
int main(int argc, char ** argv) {
  const char * t = argv[1];
  size_t cap = 1 << 24; float * x = malloc(cap * 4); size_t n = fread(x, 4, cap, stdin);
  unsigned char * y = calloc(n * 4 * 16 + 1024, 1); /* Q2_K dequant: 12x its bytes */ size_t bytes = 0;
  if (!strcmp(t, "q4_0")) { quantize_row_q4_0_ref(x, (void*)y, n); bytes = n / 32 * 18; }
  else if (!strcmp(t, "q4_1")) { quantize_row_q4_1_ref(x, (void*)y, n); bytes = n / 32 * 20; }
  else if (!strcmp(t, "q8_0")) { quantize_row_q8_0_ref(x, (void*)y, n); bytes = n / 32 * 34; }
  else if (!strcmp(t, "q4_K")) { quantize_row_q4_K_ref(x, (void*)y, n); bytes = n / 256 * 144; }
  else if (!strcmp(t, "q5_K")) { quantize_row_q5_K_ref(x, (void*)y, n); bytes = n / 256 * 176; }
  else if (!strcmp(t, "q6_K")) { quantize_row_q6_K_ref(x, (void*)y, n); bytes = n / 256 * 210; }
  else if (!strcmp(t, "q5_0")) { quantize_row_q5_0_ref(x, (void*)y, n); bytes = n / 32 * 22; }
  else if (!strcmp(t, "q5_1")) { quantize_row_q5_1_ref(x, (void*)y, n); bytes = n / 32 * 24; }
  else if (!strcmp(t, "f16")) { for (size_t i = 0; i < n; i++) ((ggml_fp16_t*)y)[i] = GGML_FP32_TO_FP16(x[i]); bytes = n * 2; }
  else if (!strcmp(t, "bf16")) { for (size_t i = 0; i < n; i++) ((ggml_bf16_t*)y)[i] = GGML_FP32_TO_BF16(x[i]); bytes = n * 2; }
  else if (!strcmp(t, "dq4_K")) { /* dequant: input is raw bytes */ dequantize_row_q4_K((void*)x, (float*)y, n * 4 / 144 * 256); bytes = n * 4 / 144 * 256 * 4; }
  else if (!strcmp(t, "dq5_K")) { dequantize_row_q5_K((void*)x, (float*)y, n * 4 / 176 * 256); bytes = n * 4 / 176 * 256 * 4; }
  else if (!strcmp(t, "dq6_K")) { dequantize_row_q6_K((void*)x, (float*)y, n * 4 / 210 * 256); bytes = n * 4 / 210 * 256 * 4; }
  // dequant of the types tabllm quantizes its own way: input is raw bytes of whole blocks
  else if (!strcmp(t, "dq4_1")) { dequantize_row_q4_1((void*)x, (float*)y, n * 4 / 20 * 32); bytes = n * 4 / 20 * 32 * 4; }
  else if (!strcmp(t, "dq5_0")) { dequantize_row_q5_0((void*)x, (float*)y, n * 4 / 22 * 32); bytes = n * 4 / 22 * 32 * 4; }
  else if (!strcmp(t, "dq5_1")) { dequantize_row_q5_1((void*)x, (float*)y, n * 4 / 24 * 32); bytes = n * 4 / 24 * 32 * 4; }
  else if (!strcmp(t, "diq4_nl")) { dequantize_row_iq4_nl((void*)x, (float*)y, n * 4 / 18 * 32); bytes = n * 4 / 18 * 32 * 4; }
  else if (!strcmp(t, "dq2_K")) { dequantize_row_q2_K((void*)x, (float*)y, n * 4 / 84 * 256); bytes = n * 4 / 84 * 256 * 4; }
  else if (!strcmp(t, "dq3_K")) { dequantize_row_q3_K((void*)x, (float*)y, n * 4 / 110 * 256); bytes = n * 4 / 110 * 256 * 4; }
  else if (!strcmp(t, "diq4_xs")) { dequantize_row_iq4_xs((void*)x, (float*)y, n * 4 / 136 * 256); bytes = n * 4 / 136 * 256 * 4; }
  else { fprintf(stderr, "unknown %s\n", t); return 1; }
  fwrite(y, 1, bytes, stdout);
  return 0;
}
