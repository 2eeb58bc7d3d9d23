// RUN: mpc-opt %s --split-input-file --verify-diagnostics --mpc-gpu-block-reductions

// Long reductions the block kernel does not cover say why.
func.func @integer_sum(%x: memref<4x128xi32>, %out: memref<4xi32>) {
  // expected-warning @+1 {{reduction of 128 elements not mapped to a thread block (runs one thread per output element): only f32 add, mul, maximum and minimum are mapped}}
  linalg.reduce ins(%x : memref<4x128xi32>) outs(%out : memref<4xi32>) dimensions = [1]
    (%in: i32, %acc: i32) {
      %s = arith.addi %in, %acc : i32
      linalg.yield %s : i32
    }
  return
}

// -----

func.func @indexed(%x: memref<4x128xf32>, %out: memref<4xf32>) {
  // expected-warning @+1 {{reduction of 128 elements not mapped to a thread block (runs one thread per output element): its payload reads loop indices}}
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"]} ins(%x : memref<4x128xf32>) outs(%out : memref<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %j = linalg.index 1 : index
    %ji = arith.index_cast %j : index to i32
    %jf = arith.sitofp %ji : i32 to f32
    %p = arith.mulf %in, %jf : f32
    %s = arith.addf %p, %acc : f32
    linalg.yield %s : f32
  }
  return
}
