// RUN: mpc-opt %s --split-input-file --mpc-gpu-approximate-math | FileCheck %s

// Nothing is left for libdevice: pow through exp/log, exp and log as
// polynomials, floor as an exact i32 round trip, fabs as a sign-bit mask,
// sqrt as NVVM's correctly rounded intrinsic.
// CHECK-LABEL: func.func @functions
// CHECK-NOT: math.
// CHECK: arith.fptosi
// CHECK: arith.andi %{{.*}}, %{{.*}} : i32
// CHECK: llvm.call_intrinsic "llvm.nvvm.sqrt.rn.f"(%{{.*}}) : (f32) -> f32
// CHECK-NOT: math.
func.func @functions(%x: f32, %y: f32) -> (f32, f32, f32, f32) {
  %p = math.powf %x, %y : f32
  %f = math.floor %x : f32
  %a = math.absf %y : f32
  %s = math.sqrt %a : f32
  return %p, %f, %a, %s : f32, f32, f32, f32
}

// -----

// bf16 functions are evaluated in f32.
// CHECK-LABEL: func.func @narrow
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK-NOT: math.tanh
// CHECK: arith.truncf %{{.*}} : f32 to bf16
func.func @narrow(%x: bf16) -> bf16 {
  %t = math.tanh %x : bf16
  return %t : bf16
}
