//===- MPCInterfaces.td - mpc op interfaces ----------------*- tablegen -*-===//
//
// The precision interface is the contract between the precision passes
// (which decide and write an op's precision) and the lowering (which reads
// it to choose storage, compute and accumulator element types).
//
//===----------------------------------------------------------------------===//

#ifndef MPC_DIALECT_MPC_IR_MPCINTERFACES_TD
#define MPC_DIALECT_MPC_IR_MPCINTERFACES_TD

include "mlir/IR/OpBase.td"

def MPC_PrecisionOpInterface : OpInterface<"PrecisionOpInterface"> {
  let cppNamespace = "::mlir::mpc";
  let description = [{
    Implemented by every op that computes in floating point. The precision
    is stored in the op's inherent `precision` attribute; when it is absent
    the op computes, accumulates and returns in its operands' element type.
  }];
  let methods = [
    InterfaceMethod<
      "Returns the explicit precision, or null if none was assigned.",
      "::mlir::mpc::PrecisionAttr", "getPrecisionAttr", (ins), [{}],
      [{ return $_op.getPrecisionAttr(); }]>,
    InterfaceMethod<
      "Sets (or with null, clears) the explicit precision.",
      "void", "setPrecisionAttr", (ins "::mlir::mpc::PrecisionAttr":$attr),
      [{}], [{ $_op.setPrecisionAttr(attr); }]>,
    InterfaceMethod<[{
        Whether the op sums over many inputs per output (matmul, conv,
        reductions, normalisation statistics, losses), so that its
        accumulator type matters for accuracy.
      }],
      "bool", "isAccumulating", (ins), [{}], [{ return false; }]>,
    InterfaceMethod<
      "The precision the op has now: explicit, or derived from its operands.",
      "::mlir::mpc::PrecisionAttr", "getEffectivePrecision", (ins), [{}], [{
        if (auto attr = $_op.getPrecisionAttr())
          return attr;
        return ::mlir::mpc::getDefaultPrecision($_op.getOperation());
      }]>,
  ];
  let verify = [{
    return ::mlir::mpc::verifyPrecisionOp($_op);
  }];
}

#endif // MPC_DIALECT_MPC_IR_MPCINTERFACES_TD
