// RUN: mpc-opt %s --split-input-file --verify-diagnostics --mpc-gpu-matmul-to-mma

// Low-precision contractions the kernel does not cover stay SIMT loops and
// say why.
func.func @transposed(%a: memref<16x16xbf16>, %b: memref<8x16xbf16>, %c: memref<16x8xf32>) {
  // expected-warning @+1 {{low-precision contraction not mapped to tensor cores (runs as SIMT loops): only linalg.matmul, linalg.batch_matmul and the im2col convolution's contraction are mapped}}
  linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : memref<16x16xbf16>, memref<8x16xbf16>) outs(%c : memref<16x8xf32>) {
  ^bb0(%x: bf16, %y: bf16, %acc: f32):
    %xf = arith.extf %x : bf16 to f32
    %yf = arith.extf %y : bf16 to f32
    %p = arith.mulf %xf, %yf : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

func.func @bf16_accumulator(%a: memref<16x16xbf16>, %b: memref<16x8xbf16>, %c: memref<16x8xbf16>) {
  // expected-warning @+1 {{low-precision contraction not mapped to tensor cores (runs as SIMT loops): the accumulator is not f32}}
  linalg.matmul ins(%a, %b : memref<16x16xbf16>, memref<16x8xbf16>) outs(%c : memref<16x8xbf16>)
  return
}

// -----

func.func @dynamic(%a: memref<?x16xbf16>, %b: memref<16x8xbf16>, %c: memref<?x8xf32>) {
  // expected-warning @+1 {{low-precision contraction not mapped to tensor cores (runs as SIMT loops): dynamic shapes are not mapped yet}}
  linalg.matmul ins(%a, %b : memref<?x16xbf16>, memref<16x8xbf16>) outs(%c : memref<?x8xf32>)
  return
}
