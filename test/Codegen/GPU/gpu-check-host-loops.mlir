// RUN: mpc-opt %s --split-input-file --verify-diagnostics --mpc-gpu-check-host-loops

// A loop nest the GPU mapping left on the host is an error, not a silent
// host loop over device memory.
func.func @left_behind(%x: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @+1 {{loop nest not mapped to the GPU (it would run on the host over device memory)}}
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    memref.store %zero, %x[%i] : memref<8xf32>
    scf.reduce
  }
  return
}

// -----

// A scalar read on the host reads device memory: an error too.
func.func @host_access(%x: memref<f32>, %y: memref<f32>) {
  // expected-error @+1 {{memory access left on the host (every buffer is in device memory)}}
  %v = memref.load %x[] : memref<f32>
  // expected-error @+1 {{memory access left on the host (every buffer is in device memory)}}
  memref.store %v, %y[] : memref<f32>
  return
}

// -----

func.func @host_reduction(%x: memref<8xf32>, %y: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  // expected-error @+1 {{loop nest not mapped to the GPU (it would run on the host over device memory)}}
  scf.for %i = %c0 to %c8 step %c1 {
    %v = memref.load %x[%i] : memref<8xf32>
    memref.store %v, %y[] : memref<f32>
  }
  return
}

// -----

// Kernels take memrefs as bare pointers: a dynamic shape cannot cross.
func.func @dynamic_kernel_operand(%x: memref<?xf32>) {
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @+1 {{kernel operand of type 'memref<?xf32>' has a dynamic shape or layout; kernels take memrefs as bare pointers}}
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    memref.store %zero, %x[%tx] : memref<?xf32>
    gpu.terminator
  }
  return
}
