// RUN: mpc-opt %s --pass-pipeline='builtin.module(func.func(mpc-cpu-tile-and-vectorize{register-tile=4}))' -verify-diagnostics

// expected-error @below {{mpc-cpu-tile-and-vectorize: register-tile and parallel-tile take two positive sizes (M,N)}}
func.func @f() {
  return
}
