// RUN: mpc-opt %s --verify-diagnostics --mpc-gpu-serial-kernels

// The host cannot use a value read from device memory.
func.func @host_needs_device_value(%n: memref<index>) -> memref<?xf32> {
  // expected-error @+1 {{a value computed from device memory is used by the host}}
  %size = memref.load %n[] : memref<index>
  %out = memref.alloc(%size) : memref<?xf32>
  return %out : memref<?xf32>
}
