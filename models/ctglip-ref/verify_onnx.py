#!/usr/bin/python3
"""Minimal NumPy interpreter for the ONNX graphs of this package (onnx 1.12 has no reference runtime and
ONNX Runtime is not installed here).  It implements only the operators that image_encoder.onnx and
text_encoder.onnx use, following the ONNX operator specification (opset 17), and is used by train.py to
check the exported files against PyTorch.  Usage: verify_onnx.py MODEL.onnx (prints the op list)."""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def _conv(x, w, b, strides, pads, dilations, group):
    assert group == 1
    n, cin, *sp = x.shape
    cout, _, *ks = w.shape
    nd = len(sp)
    pad_width = [(0, 0), (0, 0)] + [(pads[i], pads[i + nd]) for i in range(nd)]
    xp = np.pad(x, pad_width)
    out_sp = [(sp[i] + pads[i] + pads[i + nd] - dilations[i] * (ks[i] - 1) - 1) // strides[i] + 1 for i in range(nd)]
    y = np.zeros((n, cout, *out_sp), np.float32)
    for idx in np.ndindex(*ks):
        sl = tuple(slice(idx[i] * dilations[i], idx[i] * dilations[i] + strides[i] * (out_sp[i] - 1) + 1, strides[i])
                   for i in range(nd))
        patch = xp[(slice(None), slice(None)) + sl]                       # [n,cin,*out]
        y += np.einsum('oc,nc...->no...', w[(slice(None), slice(None)) + idx], patch, optimize=True)
    if b is not None:
        y += b.reshape((1, -1) + (1,) * nd)
    return y


def _resize_linear_half_pixel(x, sizes):
    y = x
    for ax in range(2, x.ndim):
        n_in, n_out = y.shape[ax], int(sizes[ax])
        if n_in == n_out:
            continue
        src = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
        src = np.clip(src, 0, n_in - 1)
        i0 = np.floor(src).astype(int)
        i1 = np.minimum(i0 + 1, n_in - 1)
        f = (src - i0).astype(np.float32)
        shp = [1] * y.ndim
        shp[ax] = n_out
        y = np.take(y, i0, axis=ax) * (1 - f).reshape(shp) + np.take(y, i1, axis=ax) * f.reshape(shp)
    return y.astype(np.float32)


def run(model_path, feeds):
    m = onnx.load(model_path)
    env = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    env.update(feeds)
    env[''] = None
    for node in m.graph.node:
        a = {at.name: onnx.helper.get_attribute_value(at) for at in node.attribute}
        x = [env[i] if i in env else None for i in node.input]
        op = node.op_type
        if op == 'Constant':
            r = numpy_helper.to_array(a['value'])
        elif op == 'Conv':
            w = x[1]
            nd = w.ndim - 2
            r = _conv(x[0], w, x[2] if len(x) > 2 else None, a.get('strides', [1] * nd), a.get('pads', [0] * 2 * nd),
                      a.get('dilations', [1] * nd), a.get('group', 1))
        elif op == 'BatchNormalization':
            sh = (1, -1) + (1,) * (x[0].ndim - 2)
            r = (x[0] - x[3].reshape(sh)) / np.sqrt(x[4].reshape(sh) + a.get('epsilon', 1e-5)) * x[1].reshape(sh) + x[2].reshape(sh)
        elif op == 'Relu':
            r = np.maximum(x[0], 0)
        elif op == 'Add':
            r = x[0] + x[1]
        elif op == 'Mul':
            r = x[0] * x[1]
        elif op == 'Div':
            r = x[0] / x[1]
        elif op == 'Sqrt':
            r = np.sqrt(x[0])
        elif op == 'Log':
            r = np.log(x[0])
        elif op == 'Equal':
            r = x[0] == x[1]
        elif op == 'Not':
            r = np.logical_not(x[0])
        elif op == 'Cast':
            r = x[0].astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[a['to']])
        elif op == 'Clip':
            lo = x[1] if len(x) > 1 and x[1] is not None else -np.inf
            hi = x[2] if len(x) > 2 and x[2] is not None else np.inf
            r = np.clip(x[0], lo, hi)
        elif op == 'Shape':
            r = np.array(x[0].shape, np.int64)
        elif op == 'Gather':
            r = np.take(x[0], x[1].astype(np.int64), axis=a.get('axis', 0))
        elif op == 'Unsqueeze':
            r = x[0]
            for ax in sorted(int(v) for v in x[1]):
                r = np.expand_dims(r, ax)
        elif op == 'Concat':
            r = np.concatenate(x, axis=a['axis'])
        elif op == 'Slice':
            starts, ends = x[1], x[2]
            axes = x[3] if len(x) > 3 and x[3] is not None else np.arange(len(starts))
            steps = x[4] if len(x) > 4 and x[4] is not None else np.ones(len(starts), np.int64)
            sl = [slice(None)] * x[0].ndim
            for s, e, ax, st in zip(starts, ends, axes, steps):
                sl[int(ax)] = slice(int(s), int(min(e, 2 ** 62)), int(st))
            r = x[0][tuple(sl)]
        elif op == 'Reshape':
            shp = [x[0].shape[i] if v == 0 else int(v) for i, v in enumerate(x[1])]
            r = x[0].reshape(shp)
        elif op == 'Transpose':
            r = np.transpose(x[0], a['perm'])
        elif op == 'MatMul':
            r = np.matmul(x[0], x[1])
        elif op == 'Gemm':
            A = x[0].T if a.get('transA', 0) else x[0]
            B = x[1].T if a.get('transB', 0) else x[1]
            r = a.get('alpha', 1.0) * A @ B
            if len(x) > 2 and x[2] is not None:
                r = r + a.get('beta', 1.0) * x[2]
        elif op == 'ReduceSum':
            axes = tuple(int(v) for v in x[1]) if len(x) > 1 and x[1] is not None else None
            r = np.sum(x[0], axis=axes, keepdims=bool(a.get('keepdims', 1)))
        elif op == 'ReduceMax':
            r = np.max(x[0], axis=tuple(a['axes']), keepdims=bool(a.get('keepdims', 1)))
        elif op == 'Softmax':
            ax = a.get('axis', -1)
            e = np.exp(x[0] - x[0].max(axis=ax, keepdims=True))
            r = e / e.sum(axis=ax, keepdims=True)
        elif op == 'Pad':
            p = [int(v) for v in x[1]]
            nd = x[0].ndim
            assert a.get('mode', b'constant') in (b'constant', 'constant')
            r = np.pad(x[0], [(p[i], p[i + nd]) for i in range(nd)])
        elif op == 'AveragePool':
            k, s = a['kernel_shape'], a['strides']
            assert k == s and not any(a.get('pads', [0])) and not a.get('ceil_mode', 0)
            n, c, *sp = x[0].shape
            shp = [n, c]
            for d, kk in zip(sp, k):
                shp += [d // kk, kk]
            r = x[0][(slice(None), slice(None)) + tuple(slice(0, (d // kk) * kk) for d, kk in zip(sp, k))]
            r = r.reshape(shp).mean(axis=tuple(range(3, len(shp), 2)))
        elif op == 'Resize':
            assert a.get('mode') == b'linear' and a.get('coordinate_transformation_mode') == b'half_pixel'
            sizes = x[3] if len(x) > 3 and x[3] is not None else np.round(np.array(x[0].shape) * x[2]).astype(np.int64)
            r = _resize_linear_half_pixel(x[0], sizes)
        else:
            raise NotImplementedError(op)
        if isinstance(r, np.ndarray) and r.dtype == np.float64:
            r = r.astype(np.float32)
        env[node.output[0]] = r
    return [env[o.name] for o in m.graph.output]


if __name__ == '__main__':
    m = onnx.load(sys.argv[1])
    print(sorted({n.op_type for n in m.graph.node}))
