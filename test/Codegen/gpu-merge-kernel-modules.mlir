// RUN: mpc-opt %s --mpc-gpu-merge-kernel-modules | FileCheck %s

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
