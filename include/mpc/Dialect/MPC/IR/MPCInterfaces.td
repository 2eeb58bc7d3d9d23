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

def MPC_GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let cppNamespace = "::mlir::mpc";
  let description = [{
    Reverse-mode differentiation, one rule per op: the op builds its own
    vector-Jacobian product. `--mpc-build-training` walks the forward
    function backwards and asks each op on a path from a trainable
    parameter to the loss for the gradients of its operands; an op on such
    a path without this interface is an error naming it.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds, at `builder`'s insertion point, the gradients of the op's
        operands from `resultGradients` (one per result, null where a
        result does not reach the loss) and appends one value per operand
        to `operandGradients`: null for operands that are not
        differentiable (integer inputs, shapes, indices). Fails with a
        diagnostic on the op for forms the rule does not cover.
      }],
      "::llvm::LogicalResult", "buildGradients",
      (ins "::mlir::OpBuilder &":$builder,
           "::mlir::ValueRange":$resultGradients,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGradients)>,
  ];
}

def MPC_ONNXOpInterface : OpInterface<"ONNXOpInterface"> {
  let cppNamespace = "::mlir::mpc";
  let description = [{
    Every mpc op: the ONNX operator it is (`onnxOpType` in its ODS
    definition), the key of the precision policy's op lists and of user
    policies; empty for mpc's own ops (casts, parameters).
  }];
  let methods = [
    StaticInterfaceMethod<"The ONNX operator type, or empty.",
      "::llvm::StringRef", "getONNXOpType", (ins)>,
  ];
}

#endif // MPC_DIALECT_MPC_IR_MPCINTERFACES_TD
