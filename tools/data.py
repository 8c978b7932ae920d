"""Image I/O, MATLAB-compatible bicubic resizing, LR generation, metrics and patch sampling.

The resize follows MATLAB's imresize(..., 'bicubic') semantics, which is what the SR literature
(and runtime/resize.c) uses to make LR images:

* cubic kernel with a = -0.5;
* output pixel x (1-based) maps to input u = x / s + 0.5 * (1 - 1 / s);
* when shrinking (s < 1) the kernel is stretched by 1 / s and scaled by s (antialiasing);
* out-of-range taps read the image mirrored with the edge pixel repeated ("symmetric");
* weights of each output pixel are normalised to sum to 1.

Each dimension is resized separately (height first, then width) in float64; LR images are the
result rounded to uint8.
"""

import math
import os

import numpy as np
from PIL import Image

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.ppm')


def cubic_kernel(x):
    """Keys cubic convolution kernel with a = -0.5 (MATLAB's 'bicubic')."""
    ax = np.abs(x)
    ax2 = ax * ax
    ax3 = ax2 * ax
    near = (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1)
    far = (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2))
    return near + far


def resize_taps(in_len, out_len, scale):
    """Per output pixel: source indices [out_len, taps] (0-based) and normalised weights."""
    kernel_width = 4.0
    antialias = scale < 1
    if antialias:
        kernel_width = kernel_width / scale
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)
    left = np.floor(u - kernel_width / 2.0)
    taps = int(math.ceil(kernel_width)) + 2
    idx = left[:, None] + np.arange(taps, dtype=np.float64)[None, :]  # 1-based indices
    dist = u[:, None] - idx
    if antialias:
        weights = scale * cubic_kernel(dist * scale)
    else:
        weights = cubic_kernel(dist)
    weights = weights / weights.sum(axis=1, keepdims=True)
    # symmetric padding: 1..n, n..1 repeated
    mirror = np.concatenate([np.arange(in_len), np.arange(in_len - 1, -1, -1)])
    src = mirror[np.mod(idx.astype(np.int64) - 1, 2 * in_len)]
    return src, weights


def resize_matrix(in_len, out_len, scale):
    """Dense [out_len, in_len] matrix M such that out = M @ in along one dimension."""
    src, weights = resize_taps(in_len, out_len, scale)
    mat = np.zeros((out_len, in_len), dtype=np.float64)
    rows = np.repeat(np.arange(out_len), src.shape[1])
    np.add.at(mat, (rows, src.reshape(-1)), weights.reshape(-1))
    return mat


def _resize_axis0(img, out_len, scale):
    src, weights = resize_taps(img.shape[0], out_len, scale)
    out = np.zeros((out_len,) + img.shape[1:], dtype=np.float64)
    wshape = (out_len,) + (1,) * (img.ndim - 1)
    for k in range(src.shape[1]):
        out += weights[:, k].reshape(wshape) * img[src[:, k]]
    return out


def imresize(img, scale=None, out_shape=None):
    """MATLAB-compatible bicubic resize of an HxW or HxWxC array; returns float64.

    Give either `scale` (a single factor for both dimensions) or `out_shape` (h, w); with a
    scale the output size is ceil(in * scale), as in MATLAB.
    """
    img = np.asarray(img, dtype=np.float64)
    h, w = img.shape[:2]
    if out_shape is None:
        out_shape = (int(math.ceil(h * scale)), int(math.ceil(w * scale)))
        sh = sw = float(scale)
    else:
        sh = out_shape[0] / h
        sw = out_shape[1] / w
        if scale is not None:
            sh = sw = float(scale)
    out = _resize_axis0(img, out_shape[0], sh)
    out = np.swapaxes(_resize_axis0(np.swapaxes(out, 0, 1), out_shape[1], sw), 0, 1)
    return np.ascontiguousarray(out)


def to_uint8(img):
    """Round a float image in 0..255 to uint8 the way MATLAB does (half away from zero)."""
    return np.clip(np.floor(img + 0.5), 0, 255).astype(np.uint8)


def load_rgb(path):
    with Image.open(path) as im:
        return np.asarray(im.convert('RGB'), dtype=np.uint8)


def save_rgb(path, img):
    Image.fromarray(np.asarray(img, dtype=np.uint8), 'RGB').save(path)


def mod_crop(img, scale):
    h, w = img.shape[:2]
    return img[:h - h % scale, :w - w % scale]


def make_lr(hr, scale):
    """LR image of a uint8 HR image: mod-crop, bicubic downscale by 1/scale, round to uint8.

    Returns (hr_cropped, lr)."""
    hr = mod_crop(hr, scale)
    lr = to_uint8(imresize(hr, 1.0 / scale))
    return hr, lr


def list_images(folder):
    paths = []
    for root, _, files in os.walk(folder):
        for name in files:
            if name.lower().endswith(IMAGE_EXTENSIONS):
                paths.append(os.path.join(root, name))
    return sorted(paths)


def rgb_to_y(img):
    """BT.601 luma of an RGB image in 0..255 (float64), range 16..235."""
    img = np.asarray(img, dtype=np.float64) / 255.0
    return 16.0 + img @ np.array([65.481, 128.553, 24.966])


def psnr_y(sr, hr, border):
    """Y-channel PSNR of two uint8 RGB images with `border` pixels cropped on every side."""
    ys = rgb_to_y(sr)
    yh = rgb_to_y(hr)
    if border > 0:
        ys = ys[border:-border, border:-border]
        yh = yh[border:-border, border:-border]
    mse = np.mean((ys - yh) ** 2)
    if mse == 0:
        return float('inf')
    return 10.0 * math.log10(255.0 * 255.0 / mse)


def _gaussian_window(size=11, sigma=1.5):
    ax = np.arange(size) - size // 2
    g = np.exp(-(ax ** 2) / (2 * sigma * sigma))
    g = g / g.sum()
    return np.outer(g, g)


def _filter_valid(img, win):
    k = win.shape[0]
    h, w = img.shape
    out = np.zeros((h - k + 1, w - k + 1))
    for dy in range(k):
        for dx in range(k):
            out += win[dy, dx] * img[dy:dy + h - k + 1, dx:dx + w - k + 1]
    return out


def ssim_y(sr, hr, border):
    """Y-channel SSIM (Wang et al., 11x11 Gaussian sigma 1.5, valid region), as BasicSR."""
    ys = rgb_to_y(sr)
    yh = rgb_to_y(hr)
    if border > 0:
        ys = ys[border:-border, border:-border]
        yh = yh[border:-border, border:-border]
    c1 = (0.01 * 255) ** 2
    c2 = (0.03 * 255) ** 2
    win = _gaussian_window()
    mu1 = _filter_valid(ys, win)
    mu2 = _filter_valid(yh, win)
    s11 = _filter_valid(ys * ys, win) - mu1 * mu1
    s22 = _filter_valid(yh * yh, win) - mu2 * mu2
    s12 = _filter_valid(ys * yh, win) - mu1 * mu2
    m = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1 * mu1 + mu2 * mu2 + c1) * (s11 + s22 + c2))
    return float(m.mean())


def load_eval_set(folder, scale):
    """[(name, hr_uint8, lr_uint8)] of every image in `folder`, LR made by make_lr."""
    items = []
    for path in list_images(folder):
        hr, lr = make_lr(load_rgb(path), scale)
        items.append((os.path.splitext(os.path.basename(path))[0], hr, lr))
    if not items:
        raise SystemExit(f'no images found in {folder}')
    return items


class PatchSampler:
    """Random aligned HR/LR patch pairs with flips and 90-degree rotations.

    HR and LR images of the whole training set are generated once and cached as .npy files in
    `cache_dir` (memory-mapped afterwards), so a training step only slices arrays."""

    def __init__(self, folder, scale, cache_dir, seed=0, max_images=None, log=print):
        self.scale = scale
        paths = list_images(folder)
        if max_images is not None:
            paths = paths[:max_images]
        if not paths:
            raise SystemExit(f'no training images found in {folder}')
        os.makedirs(cache_dir, exist_ok=True)
        self.hr = []
        self.lr = []
        for i, path in enumerate(paths):
            rel = os.path.relpath(path, folder).replace(os.sep, '__')
            base = os.path.join(cache_dir, os.path.splitext(rel)[0])
            # HR is stored mod-cropped for this scale, so each scale has its own HR file
            hr_path = base + f'.hr_x{scale}.npy'
            lr_path = base + f'.lr_x{scale}.npy'
            if not (os.path.exists(hr_path) and os.path.exists(lr_path)):
                hr, lr = make_lr(load_rgb(path), scale)
                np.save(hr_path + '.tmp.npy', hr)
                os.replace(hr_path + '.tmp.npy', hr_path)
                np.save(lr_path + '.tmp.npy', lr)
                os.replace(lr_path + '.tmp.npy', lr_path)
                if (i + 1) % 25 == 0:
                    log(f'  cached LR x{scale} for {i + 1}/{len(paths)} images')
            self.hr.append(np.load(hr_path, mmap_mode='r'))
            self.lr.append(np.load(lr_path, mmap_mode='r'))
        sizes = np.array([a.shape[0] * a.shape[1] for a in self.lr], dtype=np.float64)
        self.prob = sizes / sizes.sum()
        self.max_patch = max(min(a.shape[0], a.shape[1]) for a in self.lr)  # sample images in proportion to their area
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return len(self.hr)

    def sample(self, batch, lr_patch):
        """Returns (lr, hr) float32 arrays [N, 3, p, p] and [N, 3, p*s, p*s] in 0..1."""
        s = self.scale
        if lr_patch > self.max_patch:
            raise ValueError(f'LR patch {lr_patch} is larger than every training LR image '
                             f'(largest fits {self.max_patch})')
        hp = lr_patch * s
        lrs = np.empty((batch, 3, lr_patch, lr_patch), dtype=np.float32)
        hrs = np.empty((batch, 3, hp, hp), dtype=np.float32)
        for n in range(batch):
            while True:
                k = self.rng.choice(len(self.lr), p=self.prob)
                lr_img, hr_img = self.lr[k], self.hr[k]
                if lr_img.shape[0] >= lr_patch and lr_img.shape[1] >= lr_patch:
                    break
            y = int(self.rng.integers(0, lr_img.shape[0] - lr_patch + 1))
            x = int(self.rng.integers(0, lr_img.shape[1] - lr_patch + 1))
            lp = np.asarray(lr_img[y:y + lr_patch, x:x + lr_patch])
            hq = np.asarray(hr_img[y * s:y * s + hp, x * s:x * s + hp])
            mode = int(self.rng.integers(0, 8))
            lp = augment(lp, mode)
            hq = augment(hq, mode)
            lrs[n] = lp.transpose(2, 0, 1) / 255.0
            hrs[n] = hq.transpose(2, 0, 1) / 255.0
        return lrs, hrs


def augment(img, mode):
    """One of the 8 dihedral transforms of an HxWxC patch."""
    if mode & 1:
        img = img[:, ::-1]
    if mode & 2:
        img = img[::-1, :]
    if mode & 4:
        img = img.transpose(1, 0, 2)
    return img
