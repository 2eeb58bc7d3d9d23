// RUN: mpc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(mpc-cpu-tile-and-vectorize{register-tile=4,16 parallel-tile=32,48 min-parallel-work=1 min-packed-rows=1 report-skipped}))' -verify-diagnostics | FileCheck %s
// RUN: mpc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(mpc-cpu-tile-and-vectorize{register-tile=4,16 parallel-tile=32,48 min-packed-rows=1 report-skipped}))' -verify-diagnostics | FileCheck %s --check-prefix=SMALL
// RUN: mpc-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(mpc-cpu-tile-and-vectorize{register-tile=4,16 parallel-tile=32,48 min-parallel-work=1 report-skipped}))' -verify-diagnostics | FileCheck %s --check-prefix=UNPACKED

// By default B is packed only for 128 rows or more: a 64-row matmul reads
// B in place, its register tiles' rows 96 floats apart.
// UNPACKED-LABEL: func.func @matmul
// UNPACKED-NOT: linalg.transpose
// UNPACKED: scf.forall (%{{.*}}, %{{.*}}) = (0, 0) to (64, 96) step (32, 48)
// UNPACKED: vector.contract
// UNPACKED-LABEL: func.func @uneven

// The default threshold keeps small contractions (under 8 x 32768
// multiply-adds) on one thread: one block, no scf.forall.
// SMALL-LABEL: func.func @uneven
// SMALL-NOT: scf.forall (
// SMALL: scf.for
// SMALL-LABEL: func.func @batch_matmul
// SMALL-NOT: scf.forall (
// SMALL: scf.for

// B is packed into N/16 panels of K x 16 (a transpose of its expanded
// form), A and C are only reshaped; blocks of 8 x 3 register tiles run in
// an scf.forall; inside, N tiles, M tiles and K steps; each register tile
// is one 4 x 16 vector multiply-add whose multiply may fuse into an FMA.
// CHECK-LABEL: func.func @matmul
// CHECK-DAG: %[[A:.*]] = tensor.expand_shape %arg0 {{\[}}[0, 1], [2]] output_shape [16, 4, 128]
// CHECK-DAG: %[[BX:.*]] = tensor.expand_shape %arg1 {{\[}}[0], [1, 2]] output_shape [128, 6, 16]
// The packing copy is itself split across threads, one panel per task.
// CHECK: %[[B:.*]] = scf.forall (%{{.*}}) in (6) {{.*}} -> (tensor<6x128x16xf32>)
// CHECK: linalg.transpose ins(%{{.*}} : tensor<128x1x16xf32>) outs(%{{.*}} : tensor<1x128x16xf32>) permutation = [1, 0, 2]
// CHECK: %[[C:.*]] = tensor.expand_shape %arg2 {{\[}}[0, 1], [2, 3]] output_shape [16, 4, 6, 16]
// CHECK: %[[R:.*]] = scf.forall (%{{.*}}, %{{.*}}) = (0, 0) to (16, 6) step (8, 3) shared_outs(%{{.*}} = %[[C]])
// CHECK: scf.for {{.*}} to %c3
// CHECK: scf.for {{.*}} to %c8
// CHECK: scf.for {{.*}} to %c128
// CHECK: vector.transfer_read {{.*}} : tensor<1x4x1xf32>, vector<1x1x1x4x16xf32>
// CHECK: vector.transfer_read {{.*}} : tensor<1x1x16xf32>, vector<1x1x1x4x16xf32>
// CHECK: arith.mulf {{.*}} fastmath<contract> : vector<1x1x1x4x16xf32>
// CHECK: vector.multi_reduction <add>
// CHECK: scf.forall.in_parallel
// CHECK: tensor.collapse_shape %[[R]] {{\[}}[0, 1], [2, 3]] : tensor<16x4x6x16xf32> into tensor<64x96xf32>
func.func @matmul(%a: tensor<64x128xf32>, %b: tensor<128x96xf32>, %c: tensor<64x96xf32>) -> tensor<64x96xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<64x128xf32>, tensor<128x96xf32>) outs(%c : tensor<64x96xf32>) -> tensor<64x96xf32>
  return %r : tensor<64x96xf32>
}

// -----

// M = 37 and N = 40 take the largest tiles that divide them, N's in whole
// vectors (1 and 8, not 10): no tile is partial, so no vector needs a mask.
// CHECK-LABEL: func.func @uneven
// CHECK: tensor.expand_shape %arg1 {{\[}}[0], [1, 2]] output_shape [24, 5, 8]
// CHECK: scf.forall (%{{.*}}, %{{.*}}) = (0, 0) to (37, 5) step (1, 5)
// CHECK: vector<1x1x1x1x8xf32>
func.func @uneven(%a: tensor<37x24xf32>, %b: tensor<24x40xf32>, %c: tensor<37x40xf32>) -> tensor<37x40xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<37x24xf32>, tensor<24x40xf32>) outs(%c : tensor<37x40xf32>) -> tensor<37x40xf32>
  return %r : tensor<37x40xf32>
}

// -----

// bf16 operands: the extension to fp32 stays in the vectorized tile, the
// accumulator is fp32.
// CHECK-LABEL: func.func @matmul_bf16
// CHECK: scf.forall
// CHECK: arith.extf {{.*}} : vector<1x1x1x4x16xbf16> to vector<1x1x1x4x16xf32>
// CHECK: arith.mulf {{.*}} fastmath<contract> : vector<1x1x1x4x16xf32>
func.func @matmul_bf16(%a: tensor<8x32xbf16>, %b: tensor<32x16xbf16>, %c: tensor<8x16xf32>) -> tensor<8x16xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<8x32xbf16>, tensor<32x16xbf16>) outs(%c : tensor<8x16xf32>) -> tensor<8x16xf32>
  return %r : tensor<8x16xf32>
}

// -----

// Batch dims get blocks of one.
// CHECK-LABEL: func.func @batch_matmul
// CHECK: scf.forall (%{{.*}}, %{{.*}}, %{{.*}}) = (0, 0, 0) to (2, 2, 2) step (1, 2, 2)
func.func @batch_matmul(%a: tensor<2x8x16xf32>, %b: tensor<2x16x32xf32>, %c: tensor<2x8x32xf32>) -> tensor<2x8x32xf32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<2x8x16xf32>, tensor<2x16x32xf32>) outs(%c : tensor<2x8x32xf32>) -> tensor<2x8x32xf32>
  return %r : tensor<2x8x32xf32>
}

// -----

// Dynamic shapes are left to the scalar loops, and said so.
// CHECK-LABEL: func.func @dynamic
// CHECK-NOT: scf.forall (
// CHECK: linalg.matmul
func.func @dynamic(%a: tensor<?x16xf32>, %b: tensor<16x8xf32>, %c: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-remark @below {{contraction left to the scalar loops: its shape is dynamic}}
  %r = linalg.matmul ins(%a, %b : tensor<?x16xf32>, tensor<16x8xf32>) outs(%c : tensor<?x8xf32>) -> tensor<?x8xf32>
  return %r : tensor<?x8xf32>
}

// -----

// Elementwise ops are collapsed to one loop, split into blocks of whole
// vectors for the threads (16 of 4096 here) and vectorized along it, 16
// lanes per step; small ones are not worth a fork but are vectorized.
// SMALL-LABEL: func.func @elementwise
// SMALL: tensor.collapse_shape %arg0 {{\[}}[0, 1]] : tensor<256x256xf32> into tensor<65536xf32>
// SMALL: scf.forall (%{{.*}}) = (0) to (65536) step (4096)
// SMALL: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// SMALL: %[[X:.+]] = vector.transfer_read {{.*}} : tensor<16xf32>, vector<16xf32>
// SMALL: math.exp %[[X]] : vector<16xf32>
// SMALL: tensor.expand_shape {{.*}} output_shape [256, 256]
// SMALL-NOT: scf.forall (
// SMALL: math.exp %{{.*}} : vector<16xf32>
// With min-parallel-work=1 the small one is split too, into whole vectors:
// its 16 elements are one.
// CHECK-LABEL: func.func @elementwise
// CHECK: scf.forall (%{{.*}}) = (0) to (65536) step (4096)
// CHECK: math.exp %{{.*}} : vector<16xf32>
// CHECK-NOT: scf.forall (
// CHECK: math.exp %{{.*}} : vector<16xf32>
func.func @elementwise(%x: tensor<256x256xf32>, %small: tensor<4x4xf32>) -> (tensor<256x256xf32>, tensor<4x4xf32>) {
  %e = tensor.empty() : tensor<256x256xf32>
  %r = linalg.exp ins(%x : tensor<256x256xf32>) outs(%e : tensor<256x256xf32>) -> tensor<256x256xf32>
  %es = tensor.empty() : tensor<4x4xf32>
  %s = linalg.exp ins(%small : tensor<4x4xf32>) outs(%es : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %r, %s : tensor<256x256xf32>, tensor<4x4xf32>
}

// -----

// BatchNorm's normalisation: a per-channel statistic kept as [1, C, 1, 1]
// is read as [C], the loops collapse to [N, C, H*W], and H*W = 196 (not a
// multiple of 16) is vectorized 14 lanes at a time: every vector has a
// static length, none needs a mask.
// SMALL-LABEL: func.func @per_channel
// SMALL: tensor.collapse_shape %arg1 {{\[}}[0, 1, 2, 3]] : tensor<1x16x1x1xf32> into tensor<16xf32>
// SMALL: tensor.collapse_shape %arg0 {{\[}}[0], [1], [2, 3]] : tensor<16x16x14x14xf32> into tensor<16x16x196xf32>
// SMALL: scf.forall (%{{.*}}) in (16)
// SMALL: %[[X:.+]] = vector.transfer_read {{.*}} : tensor<1x1x14xf32>, vector<1x1x14xf32>
// SMALL: %[[M:.+]] = vector.transfer_read {{.*}} : tensor<1xf32>, vector<1x1x14xf32>
// SMALL: arith.subf %[[X]], %[[M]] : vector<1x1x14xf32>
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch4 = affine_map<(d0, d1, d2, d3) -> (0, d1, 0, 0)>
func.func @per_channel(%x: tensor<16x16x14x14xf32>, %mean: tensor<1x16x1x1xf32>) -> tensor<16x16x14x14xf32> {
  %e = tensor.empty() : tensor<16x16x14x14xf32>
  %r = linalg.generic {indexing_maps = [#id4, #ch4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %mean : tensor<16x16x14x14xf32>, tensor<1x16x1x1xf32>) outs(%e : tensor<16x16x14x14xf32>) {
  ^bb0(%a: f32, %m: f32, %o: f32):
    %c = arith.subf %a, %m : f32
    linalg.yield %c : f32
  } -> tensor<16x16x14x14xf32>
  return %r : tensor<16x16x14x14xf32>
}

// -----

// 16-bit floats take vectors of a power of two lanes only (LLVM promotes
// the selects of other widths lane by lane on CPUs without bf16
// conversions): 28 x 28 = 784 is 16 lanes at a time, widened in the
// vector; 14 x 14 = 196, whose largest such divisor is 4, stays scalar.
// SMALL-LABEL: func.func @per_channel_bf16
// SMALL: %[[X:.+]] = vector.transfer_read {{.*}} : tensor<1x1x16xbf16>, vector<1x1x16xbf16>
// SMALL: %[[W:.+]] = arith.extf %[[X]] : vector<1x1x16xbf16> to vector<1x1x16xf32>
// SMALL: arith.subf %[[W]], %{{.+}} : vector<1x1x16xf32>
// SMALL-NOT: vector.transfer_read
// SMALL: return
#id4 = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch4 = affine_map<(d0, d1, d2, d3) -> (0, d1, 0, 0)>
func.func @per_channel_bf16(%x: tensor<8x16x28x28xbf16>, %y: tensor<8x16x14x14xbf16>, %mean: tensor<1x16x1x1xf32>) -> (tensor<8x16x28x28xf32>, tensor<8x16x14x14xf32>) {
  %e = tensor.empty() : tensor<8x16x28x28xf32>
  %r = linalg.generic {indexing_maps = [#id4, #ch4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %mean : tensor<8x16x28x28xbf16>, tensor<1x16x1x1xf32>) outs(%e : tensor<8x16x28x28xf32>) {
  ^bb0(%a: bf16, %m: f32, %o: f32):
    %w = arith.extf %a : bf16 to f32
    %c = arith.subf %w, %m : f32
    linalg.yield %c : f32
  } -> tensor<8x16x28x28xf32>
  %es = tensor.empty() : tensor<8x16x14x14xf32>
  %s = linalg.generic {indexing_maps = [#id4, #ch4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%y, %mean : tensor<8x16x14x14xbf16>, tensor<1x16x1x1xf32>) outs(%es : tensor<8x16x14x14xf32>) {
  ^bb0(%a: bf16, %m: f32, %o: f32):
    %w = arith.extf %a : bf16 to f32
    %c = arith.subf %w, %m : f32
    linalg.yield %c : f32
  } -> tensor<8x16x14x14xf32>
  return %r, %s : tensor<8x16x28x28xf32>, tensor<8x16x14x14xf32>
}

// -----

// A copy into the interior of a padded image keeps its loops, split
// across threads: collapsed (or vectorized) it would fold into a slice
// copy, a memref.copy of a strided slice, which the runtime's memrefCopy
// does one element at a time.
// SMALL-LABEL: func.func @pad_interior
// SMALL-NOT: tensor.collapse_shape
// SMALL: scf.forall (%{{.*}}) = (0) to (64) step (4)
// SMALL-NOT: vector.transfer_read
// SMALL: linalg.copy ins(%{{.*}} : tensor<4x16x28x28xf32>)
func.func @pad_interior(%x: tensor<64x16x28x28xf32>, %padded: tensor<64x16x30x30xf32>) -> tensor<64x16x30x30xf32> {
  %interior = tensor.extract_slice %padded[0, 0, 1, 1] [64, 16, 28, 28] [1, 1, 1, 1] : tensor<64x16x30x30xf32> to tensor<64x16x28x28xf32>
  %c = linalg.copy ins(%x : tensor<64x16x28x28xf32>) outs(%interior : tensor<64x16x28x28xf32>) -> tensor<64x16x28x28xf32>
  %r = tensor.insert_slice %c into %padded[0, 0, 1, 1] [64, 16, 28, 28] [1, 1, 1, 1] : tensor<64x16x28x28xf32> into tensor<64x16x30x30xf32>
  return %r : tensor<64x16x30x30xf32>
}

// -----

// Left to the scalar loops (split across threads only): a transpose, which
// reads its innermost loop with a stride, 37 x 37 elements, whose widest
// dividing vector would be one lane, and a select on an i1 mask (an i1
// vector in memory is packed bits to LLVM, a tensor of i1 is bytes).
// SMALL-LABEL: func.func @not_vectorized
// SMALL-NOT: vector.transfer_read
// SMALL: linalg.transpose
// SMALL-NOT: vector.transfer_read
// SMALL: linalg.generic
// SMALL-NOT: vector.transfer_read
// SMALL: arith.select
// SMALL-NOT: vector.transfer_read
// SMALL: return
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @not_vectorized(%x: tensor<256x256xf32>, %y: tensor<37x37xf32>, %mask: tensor<64x64xi1>, %z: tensor<64x64xf32>) -> (tensor<256x256xf32>, tensor<37x37xf32>, tensor<64x64xf32>) {
  %e = tensor.empty() : tensor<256x256xf32>
  %t = linalg.transpose ins(%x : tensor<256x256xf32>) outs(%e : tensor<256x256xf32>) permutation = [1, 0]
  %ey = tensor.empty() : tensor<37x37xf32>
  %n = linalg.generic {indexing_maps = [#id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%y : tensor<37x37xf32>) outs(%ey : tensor<37x37xf32>) {
  ^bb0(%a: f32, %o: f32):
    %c = arith.negf %a : f32
    linalg.yield %c : f32
  } -> tensor<37x37xf32>
  %ez = tensor.empty() : tensor<64x64xf32>
  %zero = arith.constant 0.0 : f32
  %w = linalg.generic {indexing_maps = [#id2, #id2, #id2], iterator_types = ["parallel", "parallel"]} ins(%mask, %z : tensor<64x64xi1>, tensor<64x64xf32>) outs(%ez : tensor<64x64xf32>) {
  ^bb0(%m: i1, %a: f32, %o: f32):
    %c = arith.select %m, %a, %zero : f32
    linalg.yield %c : f32
  } -> tensor<64x64xf32>
  return %t, %n, %w : tensor<256x256xf32>, tensor<37x37xf32>, tensor<64x64xf32>
}

// -----

// im2col's gather (batch 1, 8 channels, a 3x3 window over 16x32): the batch
// dim has one iteration, and K = 72 is indexed through floordiv 9, mod 9
// and mod 3, so it is tiled only by whole windows (9, a multiple of every
// period, dividing 72). A tile of 5 (72 / 16 rounded up) made the tiled op
// read the wrong pixels: batch-1 convolutions were silently wrong.
// CHECK-LABEL: func.func @im2col_batch1
// CHECK: scf.forall (%{{.*}}, %{{.*}}) = (0, 0) to (1, 72) step (1, 9)
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<1x1x18x34xf32>) outs(%{{.*}} : tensor<1x9x512xf32>)
// CHECK-NOT: scf.forall (
#im2col_in = affine_map<(d0, d1, d2) -> (d0, d1 floordiv 9, d2 floordiv 32 + (d1 mod 9) floordiv 3, d2 mod 32 + d1 mod 3)>
#im2col_out = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @im2col_batch1(%x: tensor<1x8x18x34xf32>) -> tensor<1x72x512xf32> {
  %e = tensor.empty() : tensor<1x72x512xf32>
  %r = linalg.generic {indexing_maps = [#im2col_in, #im2col_out], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x : tensor<1x8x18x34xf32>) outs(%e : tensor<1x72x512xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x72x512xf32>
  return %r : tensor<1x72x512xf32>
}

// -----

// Slices are sized by evaluating each map at the last index of every loop,
// which for `d0 mod 7` over 20 rows gives 6 rows where 7 are read: an op
// with a dim used non-linearly that does not span whole periods is not
// tiled at all, and neither is a mod of a sum (tileable in neither dim).
// Over 20 rows `d0 mod 4` is whole periods, so d0 is tiled by 4.
// CHECK-LABEL: func.func @nonlinear_untileable
// CHECK-NOT: scf.forall (
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<7x64xf32>) outs(%{{.*}} : tensor<20x64xf32>)
// CHECK-NOT: scf.forall (
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<3x64xf32>) outs(%{{.*}} : tensor<20x64xf32>)
// CHECK: scf.forall (%{{.*}}) = (0) to (20) step (4)
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<4x64xf32>) outs(%{{.*}} : tensor<4x64xf32>)
#mod7 = affine_map<(d0, d1) -> (d0 mod 7, d1)>
#mod4 = affine_map<(d0, d1) -> (d0 mod 4, d1)>
#summod = affine_map<(d0, d1) -> ((d0 + d1) mod 3, d1)>
#id2 = affine_map<(d0, d1) -> (d0, d1)>
func.func @nonlinear_untileable(%x: tensor<7x64xf32>, %y: tensor<3x64xf32>, %z: tensor<4x64xf32>) -> (tensor<20x64xf32>, tensor<20x64xf32>, tensor<20x64xf32>) {
  %e = tensor.empty() : tensor<20x64xf32>
  %r = linalg.generic {indexing_maps = [#mod7, #id2], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<7x64xf32>) outs(%e : tensor<20x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<20x64xf32>
  %s = linalg.generic {indexing_maps = [#summod, #id2], iterator_types = ["parallel", "parallel"]} ins(%y : tensor<3x64xf32>) outs(%e : tensor<20x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<20x64xf32>
  %t = linalg.generic {indexing_maps = [#mod4, #id2], iterator_types = ["parallel", "parallel"]} ins(%z : tensor<4x64xf32>) outs(%e : tensor<20x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<20x64xf32>
  return %r, %s, %t : tensor<20x64xf32>, tensor<20x64xf32>, tensor<20x64xf32>
}

// -----

// A weight gradient's shape: N = 9 is narrower than a register tile and
// M = 16 wider, so the transpose is computed (C^T = B^T A^T, into a
// transposed init); its one 9 x 16 block would leave every core but one
// idle, so K = 4096 is split into 16 chunks of 256 that run in parallel
// into partial sums, added after and transposed back. The partial sums'
// zero fill moves into the blocks: each clears its own, just before use.
// B, the output gradient read as [K, F], is packed (transposed once)
// although M = 9 is far under min-packed-rows: unpacked, each K step of a
// register tile gathered 16 elements a row of K apart.
// UNPACKED-LABEL: func.func @weight_gradient
// UNPACKED: linalg.transpose ins(%{{.+}} : tensor<1x16x1x256xf32>) outs(%{{.+}} : tensor<1x1x256x16xf32>) permutation = [2, 0, 3, 1]
// CHECK-LABEL: func.func @weight_gradient
// CHECK-SAME: (%[[DY:.+]]: tensor<16x4096xf32>, %[[COLS:.+]]: tensor<4096x9xf32>, %[[C:.+]]: tensor<16x9xf32>)
// CHECK: %[[CT:.+]] = linalg.transpose ins(%[[C]] : tensor<16x9xf32>) outs(%{{.+}} : tensor<9x16xf32>) permutation = [1, 0]
// CHECK: tensor.expand_shape %[[COLS]] {{\[}}[0, 1], [2]] output_shape [16, 256, 9]
// CHECK: tensor.expand_shape %[[DY]] {{\[}}[0], [1, 2]] output_shape [16, 16, 256]
// CHECK-NOT: linalg.fill
// CHECK: %[[PARTIAL:.+]] = tensor.expand_shape %{{.+}} : tensor<16x9x16xf32> into tensor<16x3x3x1x16xf32>
// CHECK-NOT: linalg.fill
// CHECK: scf.forall (%{{.+}}, %{{.+}}, %{{.+}}) = (0, 0, 0) to (16, 1, 3) step (1, 1, 3) shared_outs(%[[BLOCKS:.+]] = %[[PARTIAL]])
// CHECK: %[[BLOCK:.+]] = tensor.extract_slice %[[BLOCKS]]
// CHECK: linalg.fill ins(%{{.+}} : f32) outs(%[[BLOCK]] : tensor<1x3x3x1x16xf32>)
// CHECK: vector<1x1x1x1x3x16xf32>
// CHECK: %[[SUM:.+]] = linalg.generic {{.+}}iterator_types = ["reduction", "parallel", "parallel"]} ins(%{{.+}} : tensor<16x9x16xf32>) outs(%[[CT]] : tensor<9x16xf32>)
// CHECK: %[[R:.+]] = linalg.transpose ins(%[[SUM]] : tensor<9x16xf32>) outs(%{{.+}} : tensor<16x9xf32>) permutation = [1, 0]
// CHECK: return %[[R]]
func.func @weight_gradient(%dy: tensor<16x4096xf32>, %cols: tensor<4096x9xf32>, %c: tensor<16x9xf32>) -> tensor<16x9xf32> {
  %r = linalg.matmul ins(%dy, %cols : tensor<16x4096xf32>, tensor<4096x9xf32>) outs(%c : tensor<16x9xf32>) -> tensor<16x9xf32>
  return %r : tensor<16x9xf32>
}

// -----

// An unpacked contraction whose body widens bf16 operands (the im2col
// matmul of a bf16 convolution): its register tile is a vector.contract of
// the widened [4, 1] and [1, 16] vectors, as an f32 one's is, not a
// broadcast of both to [4, 16, 1] (which LLVM scalarizes).
// UNPACKED-LABEL: func.func @widening_contraction
// UNPACKED: %[[A:.+]] = vector.transfer_read {{.+}} : tensor<4x1xbf16>, vector<4x1xbf16>
// UNPACKED: %[[B:.+]] = vector.transfer_read {{.+}} : tensor<1x16xbf16>, vector<1x16xbf16>
// UNPACKED: %[[WA:.+]] = arith.extf %[[A]] : vector<4x1xbf16> to vector<4x1xf32>
// UNPACKED: %[[WB:.+]] = arith.extf %[[B]] : vector<1x16xbf16> to vector<1x16xf32>
// UNPACKED: vector.contract {{.+}} %[[WA]], %[[WB]], %{{.+}} : vector<4x1xf32>, vector<1x16xf32> into vector<4x16xf32>
#a = affine_map<(d0, d1, d2) -> (d0, d2)>
#b = affine_map<(d0, d1, d2) -> (d2, d1)>
#c = affine_map<(d0, d1, d2) -> (d0, d1)>
func.func @widening_contraction(%f: tensor<32x144xbf16>, %cols: tensor<144x1024xbf16>, %o: tensor<32x1024xf32>) -> tensor<32x1024xf32> {
  %r = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]} ins(%f, %cols : tensor<32x144xbf16>, tensor<144x1024xbf16>) outs(%o : tensor<32x1024xf32>) {
  ^bb0(%x: bf16, %y: bf16, %acc: f32):
    %0 = arith.extf %x : bf16 to f32
    %1 = arith.extf %y : bf16 to f32
    %2 = arith.mulf %0, %1 : f32
    %3 = arith.addf %2, %acc : f32
    linalg.yield %3 : f32
  } -> tensor<32x1024xf32>
  return %r : tensor<32x1024xf32>
}

// -----

// A zero-filled accumulator is filled block by block inside the parallel
// loop, not as a whole before it.
// UNPACKED-LABEL: func.func @filled_accumulator
// UNPACKED-NOT: linalg.fill
// UNPACKED: scf.forall (%{{.+}}, %{{.+}}) = (0, 0) to (64, 96) step (32, 48) shared_outs(%[[BLOCKS:.+]] = %arg2)
// UNPACKED: %[[BLOCK:.+]] = tensor.extract_slice %[[BLOCKS]]
// UNPACKED: %[[ZERO:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[BLOCK]] : tensor<32x48xf32>)
// UNPACKED: scf.for {{.+}} iter_args(%{{.+}} = %[[ZERO]])
// UNPACKED: vector.contract
func.func @filled_accumulator(%a: tensor<64x128xf32>, %b: tensor<128x96xf32>, %init: tensor<64x96xf32>) -> tensor<64x96xf32> {
  %zero = arith.constant 0.0 : f32
  %c = linalg.fill ins(%zero : f32) outs(%init : tensor<64x96xf32>) -> tensor<64x96xf32>
  %r = linalg.matmul ins(%a, %b : tensor<64x128xf32>, tensor<128x96xf32>) outs(%c : tensor<64x96xf32>) -> tensor<64x96xf32>
  return %r : tensor<64x96xf32>
}

// -----

// A convolution over shifted windows (mpc-conv-to-im2col{shifted-windows}):
// B reads x[n, c, j + 16 kh + kw], a sum of loop dims that upstream's
// contraction analysis does not count. Classified by which operands
// involve each loop, f is M, (n, j) N and (c, kh, kw) K. B is not packed
// (its rows are contiguous runs of the image already; min-packed-rows=1
// would pack any other contraction); the blocks slice the image at
// j + 0 with the 2 x 16 + 2 elements the taps reach past them; each
// register tile steps through the three K loops, slicing the image at
// j + 16 kh + kw, and reads it as a plain [1, 1, 16] vector: in a tile of
// one tap the sum is just j.
// CHECK-DAG: #[[TAP:.+]] = affine_map<(d0, d1, d2) -> (d0 + d1 * 16 + d2)>
// CHECK-DAG: #[[B:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d3, d2)>
// CHECK-LABEL: func.func @shifted_windows
// CHECK-NOT: tensor.expand_shape
// CHECK: scf.forall (%[[N:.+]], %[[F:.+]], %[[J:.+]]) = (0, 0, 0) to (64, 32, 224) step (1, 32, 32)
// CHECK: %[[IMAGE:.+]] = tensor.extract_slice %arg1[%[[N]], 0, %[[J]]] [1, 16, 66] [1, 1, 1]
// CHECK: scf.for %[[JR:.+]] = %{{.+}} to %{{.+}} step %c16
// CHECK: scf.for %[[C:.+]] = %{{.+}} to %c16
// CHECK: scf.for %[[KH:.+]] = %{{.+}} to %c3
// CHECK: scf.for %[[KW:.+]] = %{{.+}} to %c3
// CHECK: %[[AT:.+]] = affine.apply #[[TAP]](%[[JR]], %[[KH]], %[[KW]])
// CHECK: tensor.extract_slice %[[IMAGE]][%{{.+}}, %[[C]], %[[AT]]] [1, 1, 16] [1, 1, 1] : tensor<1x16x66xf32> to tensor<1x1x16xf32>
// CHECK: vector.contract {indexing_maps = [#{{.+}}, #[[B]], #{{.+}}]{{.*}} : vector<4x1x1x1xf32>, vector<1x1x16xf32> into vector<1x4x16xf32>
#filter = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d3, d4, d5)>
#window = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d3, d2 + d4 * 16 + d5)>
#out = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2)>
func.func @shifted_windows(%w: tensor<32x16x3x3xf32>, %x: tensor<64x16x272xf32>) -> tensor<64x32x224xf32> {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<64x32x224xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%empty : tensor<64x32x224xf32>) -> tensor<64x32x224xf32>
  %r = linalg.generic {indexing_maps = [#filter, #window, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%w, %x : tensor<32x16x3x3xf32>, tensor<64x16x272xf32>) outs(%acc : tensor<64x32x224xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %p, %c : f32
    linalg.yield %s : f32
  } -> tensor<64x32x224xf32>
  return %r : tensor<64x32x224xf32>
}

// -----

// BatchNorm's variance: a sum over N, H and W of [8, 16, 14, 14] per
// channel. The parallel channel loop goes outermost; H*W = 196 collapses
// into one contiguous loop, split into (4, 49): each channel's task keeps
// 49 partial sums in a vector across the N and H loops (the accumulator's
// read and write are at the same place in every iteration, for
// loop-invariant-subset-hoisting to take out of them), and a second sum,
// one vector per channel, adds the 49 lanes into the result.
// CHECK-LABEL: func.func @sum_statistics
// CHECK: %[[X:.+]] = tensor.collapse_shape %arg0 {{\[}}[0], [1], [2, 3]] : tensor<8x16x14x14xf32> into tensor<8x16x196xf32>
// CHECK: %[[XS:.+]] = tensor.expand_shape %[[X]] {{\[}}[0], [1], [2, 3]] output_shape [8, 16, 4, 49]
// CHECK: %[[LANES:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<16x49xf32>)
// CHECK: %[[PARTIAL:.+]] = scf.forall (%[[C:.+]]) in (16) shared_outs(%{{.+}} = %[[LANES]])
// CHECK: scf.for %[[CT:.+]] = %{{.+}} to %c1
// CHECK: scf.for %[[N:.+]] = %{{.+}} to %c8
// CHECK: scf.for %[[H:.+]] = %{{.+}} to %c4 {{.*}} iter_args(%[[LANES_IN:.+]] = %{{.+}})
// CHECK: %[[XT:.+]] = tensor.extract_slice %{{.+}}[%[[N]], %[[CT]], %[[H]], 0] [1, 1, 1, 49]
// CHECK: %[[ACCT:.+]] = tensor.extract_slice %[[LANES_IN]][%[[CT]], 0] [1, 49]
// CHECK: %[[XV:.+]] = vector.transfer_read %[[XT]]{{.+}} : tensor<1x1x1x49xf32>, vector<1x1x1x49xf32>
// CHECK: %[[ACC:.+]] = vector.transfer_read %[[ACCT]]{{.+}} : tensor<1x49xf32>, vector<1x49xf32>
// CHECK: %[[SQ:.+]] = arith.mulf %{{.+}} : vector<1x1x1x49xf32>
// CHECK: vector.multi_reduction <add>, %[[SQ]], %[[ACC]] [1, 2] : vector<1x1x1x49xf32> to vector<1x49xf32>
// CHECK: vector.transfer_write %{{.+}}, %[[ACCT]]
// CHECK: scf.forall.in_parallel
// CHECK: scf.forall (%[[C2:.+]]) in (16) shared_outs(%{{.+}} = %arg2)
// CHECK: tensor.extract_slice %[[PARTIAL]][%[[C2]], 0] [1, 49]
// CHECK: vector.multi_reduction <add>, %{{.+}}, %{{.+}} [1] : vector<1x49xf32> to vector<1xf32>
#stat_x = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#stat_m = affine_map<(d0, d1, d2, d3) -> (0, d1, 0, 0)>
#stat_c = affine_map<(d0, d1, d2, d3) -> (d1)>
func.func @sum_statistics(%x: tensor<8x16x14x14xf32>, %mean: tensor<1x16x1x1xf32>, %acc: tensor<16xf32>) -> tensor<16xf32> {
  %r = linalg.generic {indexing_maps = [#stat_x, #stat_m, #stat_c], iterator_types = ["reduction", "parallel", "reduction", "reduction"]} ins(%x, %mean : tensor<8x16x14x14xf32>, tensor<1x16x1x1xf32>) outs(%acc : tensor<16xf32>) {
  ^bb0(%a: f32, %b: f32, %s: f32):
    %d = arith.subf %a, %b : f32
    %q = arith.mulf %d, %d : f32
    %t = arith.addf %q, %s : f32
    linalg.yield %t : f32
  } -> tensor<16xf32>
  return %r : tensor<16xf32>
}

// -----

// Sums over rows of 40 (two sums in one op): a row is one vector, added
// up across its lanes. A row of 3 is too short to be worth vectors, and a
// maximum is not a sum: both keep the scalar loops, their parallel loop
// outermost.
// CHECK-LABEL: func.func @sum_rows
// CHECK: scf.forall (%{{.+}}) = (0) to (32) step (2)
// CHECK: %[[ROW:.+]] = vector.transfer_read %{{.+}} : tensor<1x40xf32>, vector<1x40xf32>
// CHECK: vector.multi_reduction <add>, %[[ROW]], %{{.+}} [1] : vector<1x40xf32> to vector<1xf32>
// CHECK: %[[EXP:.+]] = math.exp %[[ROW]] : vector<1x40xf32>
// CHECK: vector.multi_reduction <add>, %[[EXP]], %{{.+}} [1] : vector<1x40xf32> to vector<1xf32>
// CHECK-NOT: vector.transfer_read
// CHECK: linalg.generic {{.+}}ins(%{{.+}} : tensor<2x3xf32>)
// CHECK-NOT: vector.transfer_read
// CHECK: arith.maximumf
// CHECK-NOT: vector.transfer_read
// CHECK: return
#row_x = affine_map<(d0, d1) -> (d0, d1)>
#row_s = affine_map<(d0, d1) -> (d0)>
func.func @sum_rows(%x: tensor<32x40xf32>, %s: tensor<32xf32>, %e: tensor<32xf32>, %y: tensor<32x3xf32>) -> (tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) {
  %r:2 = linalg.generic {indexing_maps = [#row_x, #row_s, #row_s], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<32x40xf32>) outs(%s, %e : tensor<32xf32>, tensor<32xf32>) {
  ^bb0(%a: f32, %sa: f32, %ea: f32):
    %t = arith.addf %sa, %a : f32
    %x2 = math.exp %a : f32
    %u = arith.addf %x2, %ea : f32
    linalg.yield %t, %u : f32, f32
  } -> (tensor<32xf32>, tensor<32xf32>)
  %short = linalg.generic {indexing_maps = [#row_x, #row_s], iterator_types = ["parallel", "reduction"]} ins(%y : tensor<32x3xf32>) outs(%s : tensor<32xf32>) {
  ^bb0(%a: f32, %sa: f32):
    %t = arith.addf %a, %sa : f32
    linalg.yield %t : f32
  } -> tensor<32xf32>
  %max = linalg.generic {indexing_maps = [#row_x, #row_s], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<32x40xf32>) outs(%s : tensor<32xf32>) {
  ^bb0(%a: f32, %sa: f32):
    %t = arith.maximumf %a, %sa : f32
    linalg.yield %t : f32
  } -> tensor<32xf32>
  return %r#0, %r#1, %short, %max : tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>
}

// -----

// Windowed sums (a weight gradient from mpc-conv-to-im2col): three taps
// of [8, 16] from one kernel [k, f, p] and three slices of one image
// [k, b, p]. The image does not depend on f, so the register tile takes 8
// rows of f (3 taps x 8 rows = 24 vector accumulators), each one vector
// of 16 lanes (of the 80 along p, split into 5 x 16); the 64 images of
// the reduction run in blocks of 32, whose operands fit in cache, inside
// each task's loop; then one small sum per tap adds the lanes.
// CHECK-LABEL: func.func @windowed_sums
// CHECK: %[[W:.+]] = tensor.expand_shape %arg0 {{\[}}[0], [1], [2, 3]] output_shape [64, 16, 5, 16]
// CHECK: linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<8x16x16xf32>)
// CHECK: scf.forall (%{{.+}}) in (8) shared_outs({{.+}}) -> (tensor<8x16x16xf32>, tensor<8x16x16xf32>, tensor<8x16x16xf32>)
// CHECK: scf.for %{{.+}} = %{{.+}} to %c64 step %c32
// CHECK: scf.for %[[F:.+]] = %{{.+}} to %c16 step %c8
// CHECK: scf.for %[[K:.+]] = %{{.+}} to %c32{{(_[0-9]+)?}} step
// CHECK: scf.for %[[P:.+]] = %{{.+}} to %c5{{(_[0-9]+)?}} step
// CHECK: tensor.extract_slice %{{.+}}[%[[K]], %[[F]], %[[P]], 0] [1, 8, 1, 16]
// CHECK: vector.transfer_read {{.*}} : tensor<1x8x1x16xf32>, vector<1x8x1x1x16xf32>
// CHECK-COUNT-3: vector.multi_reduction <add>, %{{.+}}, %{{.+}} [2, 3] : vector<1x8x1x1x16xf32> to vector<1x8x16xf32>
// CHECK: scf.forall.in_parallel
// CHECK: vector.multi_reduction <add>, %{{.+}}, %{{.+}} [{{.+}}] : vector<{{.*}}16xf32> to vector<{{.+}}>
#ws_kernel = affine_map<(d0, d1, d2, d3) -> (d2, d1, d3)>
#ws_image = affine_map<(d0, d1, d2, d3) -> (d2, d0, d3)>
#ws_tap = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
func.func @windowed_sums(%w: tensor<64x16x80xf32>, %x: tensor<64x8x110xf32>) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<8x16xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%empty : tensor<8x16xf32>) -> tensor<8x16xf32>
  %x0 = tensor.extract_slice %x[0, 0, 0] [64, 8, 80] [1, 1, 1] : tensor<64x8x110xf32> to tensor<64x8x80xf32>
  %x1 = tensor.extract_slice %x[0, 0, 1] [64, 8, 80] [1, 1, 1] : tensor<64x8x110xf32> to tensor<64x8x80xf32>
  %x2 = tensor.extract_slice %x[0, 0, 10] [64, 8, 80] [1, 1, 1] : tensor<64x8x110xf32> to tensor<64x8x80xf32>
  %r:3 = linalg.generic {indexing_maps = [#ws_kernel, #ws_image, #ws_image, #ws_image, #ws_tap, #ws_tap, #ws_tap], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%w, %x0, %x1, %x2 : tensor<64x16x80xf32>, tensor<64x8x80xf32>, tensor<64x8x80xf32>, tensor<64x8x80xf32>) outs(%acc, %acc, %acc : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>) {
  ^bb0(%a: f32, %b0: f32, %b1: f32, %b2: f32, %c0: f32, %c1: f32, %c2: f32):
    %p0 = arith.mulf %a, %b0 fastmath<contract> : f32
    %s0 = arith.addf %p0, %c0 fastmath<contract> : f32
    %p1 = arith.mulf %a, %b1 fastmath<contract> : f32
    %s1 = arith.addf %p1, %c1 fastmath<contract> : f32
    %p2 = arith.mulf %a, %b2 fastmath<contract> : f32
    %s2 = arith.addf %p2, %c2 fastmath<contract> : f32
    linalg.yield %s0, %s1, %s2 : f32, f32, f32
  } -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>)
  return %r#0, %r#1, %r#2 : tensor<8x16xf32>, tensor<8x16xf32>, tensor<8x16xf32>
}
