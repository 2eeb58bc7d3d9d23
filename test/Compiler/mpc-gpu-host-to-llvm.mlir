// RUN: mpc-opt %s --mpc-gpu-pipeline --mpc-gpu-host-to-llvm | FileCheck %s

// The host side of a CUDA build: the buffer comes from the CUDA runtime's
// arena (the generic allocation function, not malloc), the launch stays
// for the LLVM IR translation (which embeds the PTX and calls the mgpu*
// runtime), and the function is all LLVM dialect with its C interface.
// CHECK-LABEL: llvm.func @chain
// CHECK-NOT:     malloc
// CHECK:         llvm.call @_mlir_memref_to_llvm_alloc
// CHECK:         gpu.launch_func @mpc_kernels::
// CHECK:         llvm.return
// CHECK-LABEL: llvm.func @_mlir_ciface_chain
// CHECK: gpu.binary @mpc_kernels
func.func @chain(%x: tensor<64x64xf32>, %y: tensor<64x64xf32>) -> tensor<64x64xf32> attributes {llvm.emit_c_interface} {
  %0 = mpc.mul %x, %y : (tensor<64x64xf32>, tensor<64x64xf32>) -> tensor<64x64xf32>
  %1 = mpc.relu %0 : tensor<64x64xf32> -> tensor<64x64xf32>
  return %1 : tensor<64x64xf32>
}
