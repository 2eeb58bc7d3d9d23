// RUN: mpc-opt %s --split-input-file --mpc-gpu-merge-kernel-modules | FileCheck %s

// Two outlined kernels, both called @k in their own modules, end up in one
// module named after their old modules; launches follow them.
// CHECK: gpu.module @mpc_kernels [#nvvm.target<chip = "sm_80">]
// CHECK-DAG: gpu.func @first_kernel() kernel
// CHECK-DAG: gpu.func @second_kernel() kernel
// CHECK-NOT: gpu.module @first_kernel
// CHECK-LABEL: func.func @main
// CHECK: gpu.launch_func @mpc_kernels::@first_kernel
// CHECK: gpu.launch_func @mpc_kernels::@second_kernel
module attributes {gpu.container_module} {
  gpu.module @first_kernel [#nvvm.target<chip = "sm_80">] {
    gpu.func @k() kernel {
      gpu.return
    }
  }
  gpu.module @second_kernel [#nvvm.target<chip = "sm_80">] {
    gpu.func @k() kernel {
      gpu.return
    }
  }
  func.func @main() {
    %c1 = arith.constant 1 : index
    gpu.launch_func @first_kernel::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    gpu.launch_func @second_kernel::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1)
    return
  }
}

// -----

// Both kernels read the weight the outlining cloned into each of their
// modules: the merged module keeps one copy, under its own name, and the
// kernels still reference it.
// CHECK: gpu.module @mpc_kernels
// CHECK-COUNT-1: memref.global "private" constant @w
// CHECK-NOT: memref.global
// CHECK-DAG: gpu.func @first_kernel(%{{.*}}: memref<4xf32>) kernel
// CHECK-DAG: gpu.func @second_kernel(%{{.*}}: memref<4xf32>) kernel
// CHECK-DAG: memref.get_global @w
module attributes {gpu.container_module} {
  memref.global "private" constant @w : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
  gpu.module @first_kernel [#nvvm.target<chip = "sm_80">] {
    memref.global "private" constant @w : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
    gpu.func @k(%out: memref<4xf32>) kernel {
      %c0 = arith.constant 0 : index
      %g = memref.get_global @w : memref<4xf32>
      %v = memref.load %g[%c0] : memref<4xf32>
      memref.store %v, %out[%c0] : memref<4xf32>
      gpu.return
    }
  }
  gpu.module @second_kernel [#nvvm.target<chip = "sm_80">] {
    memref.global "private" constant @w : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
    gpu.func @k(%out: memref<4xf32>) kernel {
      %c1 = arith.constant 1 : index
      %g = memref.get_global @w : memref<4xf32>
      %v = memref.load %g[%c1] : memref<4xf32>
      memref.store %v, %out[%c1] : memref<4xf32>
      gpu.return
    }
  }
}

// -----

// Shared-memory buffers are 16-byte aligned for cp.async.
// CHECK: gpu.func @staged_kernel(%{{.*}}: memref<4xbf16>) workgroup(%{{.*}} : memref<64xbf16, #gpu.address_space<workgroup>> {llvm.align = 16 : i64}) kernel
module attributes {gpu.container_module} {
  gpu.module @staged_kernel [#nvvm.target<chip = "sm_80">] {
    gpu.func @k(%out: memref<4xbf16>) workgroup(%s : memref<64xbf16, #gpu.address_space<workgroup>>) kernel {
      %c0 = arith.constant 0 : index
      %v = memref.load %s[%c0] : memref<64xbf16, #gpu.address_space<workgroup>>
      memref.store %v, %out[%c0] : memref<4xbf16>
      gpu.return
    }
  }
}

// -----

// Symbols named by the model become PTX identifiers: PyTorch's `0.weight`
// (a leading digit, which ptxas rejects), TensorFlow's `a/b:0`, non-ASCII;
// `a/b:0` and `a_b_0` both map to a_b_0, so one gets a suffix. Uses in
// the kernels and launches follow.
// CHECK: gpu.module @mpc_kernels
// CHECK-DAG: memref.global "private" constant @_0_weight : memref<4xf32>
// CHECK-DAG: memref.global "private" constant @a_b_0 : memref<4xf32>
// CHECK-DAG: memref.global "private" constant @a_b_0_1 : memref<4xf32>
// CHECK-DAG: memref.global "private" constant @______ : memref<4xf32>
// CHECK-DAG: gpu.func @_1_kernel(%{{.*}}: memref<4xf32>) kernel
// CHECK-DAG: memref.get_global @_0_weight
// CHECK-DAG: memref.get_global @a_b_0_1
// CHECK-DAG: memref.get_global @a_b_0 :
// CHECK-DAG: memref.get_global @______ :
// CHECK-LABEL: func.func @main
// CHECK: gpu.launch_func @mpc_kernels::@_1_kernel
module attributes {gpu.container_module} {
  gpu.module @"1.kernel" [#nvvm.target<chip = "sm_80">] {
    memref.global "private" constant @"0.weight" : memref<4xf32> = dense<1.0>
    memref.global "private" constant @a_b_0 : memref<4xf32> = dense<2.0>
    memref.global "private" constant @"a/b:0" : memref<4xf32> = dense<3.0>
    memref.global "private" constant @"вес" : memref<4xf32> = dense<4.0>
    gpu.func @k(%out: memref<4xf32>) kernel {
      %c0 = arith.constant 0 : index
      %g0 = memref.get_global @"0.weight" : memref<4xf32>
      %g1 = memref.get_global @a_b_0 : memref<4xf32>
      %g2 = memref.get_global @"a/b:0" : memref<4xf32>
      %g3 = memref.get_global @"вес" : memref<4xf32>
      %v0 = memref.load %g0[%c0] : memref<4xf32>
      %v1 = memref.load %g1[%c0] : memref<4xf32>
      %v2 = memref.load %g2[%c0] : memref<4xf32>
      %v3 = memref.load %g3[%c0] : memref<4xf32>
      %s0 = arith.addf %v0, %v1 : f32
      %s1 = arith.addf %v2, %v3 : f32
      %s = arith.addf %s0, %s1 : f32
      memref.store %s, %out[%c0] : memref<4xf32>
      gpu.return
    }
  }
  func.func @main(%out: memref<4xf32>) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @"1.kernel"::@k blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%out : memref<4xf32>)
    return
  }
}
