function checkOffset(v: number, name: string): void {
  if (!Number.isInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer`);
}

/** Replaces the model string token at [modelStart, modelEnd) with the JSON encoding of `newModel`. */
export function rewriteModel(body: Buffer, modelStart: number, modelEnd: number, newModel: string): Buffer {
  checkOffset(modelStart, "modelStart");
  checkOffset(modelEnd, "modelEnd");
  if (
    modelEnd > body.length ||
    modelStart + 2 > modelEnd ||
    body[modelStart] !== 0x22 ||
    body[modelEnd - 1] !== 0x22
  ) {
    throw new RangeError("modelStart/modelEnd do not delimit a string token");
  }
  // JSON.stringify is the reference encoding the native path reproduces byte for byte.
  const token = JSON.stringify(newModel);
  const tokenLen = Buffer.byteLength(token, "utf8");
  const tail = body.length - modelEnd;
  const out = Buffer.allocUnsafe(modelStart + tokenLen + tail);
  body.copy(out, 0, 0, modelStart);
  out.write(token, modelStart, "utf8");
  body.copy(out, modelStart + tokenLen, modelEnd);
  return out;
}
