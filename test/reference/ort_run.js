// Runs an ONNX model with onnxruntime-node, the reference executor of mpc's
// tests and benchmarks.
//
//   node ort_run.js MODEL.onnx REQUEST.json
//
// REQUEST.json: {"inputs": {NAME: {"shape": [...], "file": "x.f32",
//                                   "dtype": "float32" | "int64"}},
//                "repeat": N, "output_dir": DIR}
// Inputs are raw little-endian float32 (or int64: token ids) files. Each output is written to
// DIR/NAME.f32 with DIR/outputs.json listing shapes; with repeat > 0 the
// mean latency of `repeat` further runs is printed as "latency: X ms".
// onnxruntime-node is found through NODE_PATH (scripts/reference.sh
// installs it under build/reference).
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

async function main() {
  const [modelPath, requestPath] = process.argv.slice(2);
  const request = JSON.parse(fs.readFileSync(requestPath, 'utf8'));
  const session = await ort.InferenceSession.create(modelPath, {
    graphOptimizationLevel: 'all',
  });
  const feeds = {};
  for (const [name, input] of Object.entries(request.inputs)) {
    const bytes = fs.readFileSync(input.file);
    if (input.dtype === 'int64') {
      const data = new BigInt64Array(bytes.buffer.slice(
          bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      feeds[name] = new ort.Tensor('int64', data, input.shape);
      continue;
    }
    const data = new Float32Array(bytes.buffer, bytes.byteOffset,
                                  bytes.byteLength / 4);
    feeds[name] = new ort.Tensor('float32', Float32Array.from(data),
                                 input.shape);
  }
  const results = await session.run(feeds);
  const shapes = {};
  for (const [name, tensor] of Object.entries(results)) {
    fs.writeFileSync(path.join(request.output_dir, name + '.f32'),
                     Buffer.from(tensor.data.buffer, tensor.data.byteOffset,
                                 tensor.data.byteLength));
    shapes[name] = tensor.dims;
  }
  fs.writeFileSync(path.join(request.output_dir, 'outputs.json'),
                   JSON.stringify(shapes));
  const repeat = request.repeat || 0;
  if (repeat > 0) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < repeat; ++i)
      await session.run(feeds);
    const ms = Number(process.hrtime.bigint() - start) / 1e6 / repeat;
    console.log('latency: ' + ms + ' ms per run (' + repeat + ' runs)');
  }
}

main().catch((e) => {
  console.error('ort_run.js: ' + e.message);
  process.exit(1);
});
