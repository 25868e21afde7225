"""Face detection (facenet-pytorch MTCNN, weights from its wheel) and landmark alignment."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from automm_media.decode import SkipVideo

TEMPLATE_112 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                         [41.5493, 92.3655], [70.7299, 92.2041]], dtype=np.float64)
"""Canonical 5-point positions (eyes, nose tip, mouth corners) in a 112 x 112 face crop."""
LANDMARK_TOLERANCE = 0.01
"""Pixels (of the frame) by which landmarks may move between MTCNN's memory formats (measured:
below 1e-4 on the demo corpus; tests/media/test_demo.py checks it)."""


def _floats(value: Any) -> np.ndarray | None:
    """MTCNN output for one image as float32, or None (numpy 2 makes these object arrays)."""
    if value is None:
        return None
    arr = np.asarray(value.tolist() if isinstance(value, np.ndarray) else value, dtype=object)
    if arr.size == 0 or any(v is None for v in arr.reshape(-1)):
        return None
    return arr.astype(np.float32)


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 2 x 3 similarity transform (rotation, uniform scale, shift) that maps ``src``
    points onto ``dst`` points with least squared error (Umeyama)."""
    src = np.asarray(src, np.float64)
    dst = np.asarray(dst, np.float64)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    cov = d.T @ s / len(src)
    u, sig, vt = np.linalg.svd(cov)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1
    rot = u @ sign @ vt
    scale = np.trace(np.diag(sig) @ sign) / max(s.var(0).sum(), 1e-12)
    out = np.zeros((2, 3))
    out[:, :2] = scale * rot
    out[:, 2] = mu_d - scale * rot @ mu_s
    return out


def invert_affine(m: np.ndarray) -> np.ndarray:
    """Inverse of a 2 x 3 affine map."""
    a = np.linalg.inv(m[:, :2])
    return np.concatenate([a, -a @ m[:, 2:]], axis=1)


def warp(images: torch.Tensor, out_to_in: np.ndarray, size: tuple[int, int],
         padding: str = "zeros") -> torch.Tensor:
    """Resample ``images`` ``(B, C, H, W)`` through per-image pixel maps ``out_to_in``
    ``(B, 2, 3)`` (output pixel -> input pixel) into ``(B, C, *size)``."""
    b, _, h, w = images.shape
    oh, ow = size
    m = torch.as_tensor(np.asarray(out_to_in), dtype=images.dtype, device=images.device).reshape(b, 2, 3)
    # normalised output coords -> output pixels -> input pixels -> normalised input coords
    to_pix = torch.tensor([[ow / 2, 0, (ow - 1) / 2], [0, oh / 2, (oh - 1) / 2], [0, 0, 1]],
                          dtype=images.dtype, device=images.device)
    to_norm = torch.tensor([[2 / w, 0, 1 / w - 1], [0, 2 / h, 1 / h - 1], [0, 0, 1]],
                           dtype=images.dtype, device=images.device)
    full = torch.cat([m, torch.tensor([[[0, 0, 1]]], dtype=images.dtype,
                                      device=images.device).expand(b, 1, 3)], dim=1)
    theta = (to_norm @ full @ to_pix)[:, :2]
    grid = F.affine_grid(theta, [b, images.shape[1], oh, ow], align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode=padding, align_corners=False)


class FaceAligner:
    """MTCNN landmarks per frame -> similarity-aligned face crops ``(K, 3, crop, crop)`` in [0, 1].

    In each frame the largest face with probability >= ``min_prob`` is used; frames without
    one borrow the landmarks of the nearest frame that has one. Frames larger than
    ``detect_side`` are downscaled for detection only. ``channels_last`` runs MTCNN's networks
    in the channels-last memory format: about 2x faster on CPU (PyTorch's NCHW max pooling is
    slow), landmarks equal to the default format's within :data:`LANDMARK_TOLERANCE`.
    """

    def __init__(self, crop: int = 112, *, device: str | torch.device = "cpu", min_prob: float = 0.9,
                 min_face_size: int = 20, detect_side: int = 640, channels_last: bool = True) -> None:
        from facenet_pytorch import MTCNN

        self.crop = crop
        self.device = torch.device(device)
        self.min_prob = min_prob
        self.detect_side = detect_side
        self.mtcnn = MTCNN(keep_all=True, min_face_size=min_face_size, device=self.device)
        if channels_last:
            self.mtcnn.to(memory_format=torch.channels_last)
        self.template = TEMPLATE_112 * crop / 112

    def describe(self) -> dict[str, Any]:
        """Settings for the cache manifest."""
        import facenet_pytorch

        return {"detector": f"facenet-pytorch MTCNN {getattr(facenet_pytorch, '__version__', '2.5.3')}",
                "min_prob": self.min_prob, "min_face_size": self.mtcnn.min_face_size,
                "detect_side": self.detect_side, "crop": self.crop,
                "alignment": "5-point similarity to the ArcFace 112 template"}

    def landmarks(self, frames: np.ndarray) -> list[np.ndarray | None]:
        """Per frame, the 5 landmarks ``(5, 2)`` of its largest confident face, or None."""
        h, w = frames.shape[1:3]
        scale = min(1.0, self.detect_side / max(h, w))
        batch = frames
        if scale < 1.0:
            t = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
            t = F.interpolate(t, size=(round(h * scale), round(w * scale)), mode="bilinear",
                              antialias=True, align_corners=False)
            batch = t.round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
        boxes, probs, points = self.mtcnn.detect(np.ascontiguousarray(batch), landmarks=True)
        out: list[np.ndarray | None] = []
        for i in range(len(frames)):
            b, p, pts = _floats(boxes[i]), _floats(probs[i]), _floats(points[i])
            if b is None or p is None or pts is None:
                out.append(None)
                continue
            b, p, pts = b.reshape(-1, 4), p.reshape(-1), pts.reshape(-1, 5, 2)
            ok = np.flatnonzero(p >= self.min_prob)
            if len(ok) == 0:
                out.append(None)
                continue
            area = (b[ok, 2] - b[ok, 0]) * (b[ok, 3] - b[ok, 1])
            out.append(pts[ok[int(np.argmax(area))]] / scale)
        return out

    def __call__(self, frames: np.ndarray) -> torch.Tensor:
        """Aligned crops of ``frames`` ``(K, H, W, 3)`` uint8; no face in any frame: :class:`SkipVideo`."""
        points = self.landmarks(frames)
        have = [i for i, p in enumerate(points) if p is not None]
        if not have:
            raise SkipVideo("no-face", f"no face found in {len(frames)} sampled frames")
        maps = []
        for i in range(len(frames)):
            nearest = points[min(have, key=lambda j: abs(j - i))]
            maps.append(invert_affine(similarity(nearest, self.template)))
        images = torch.from_numpy(frames).to(self.device).permute(0, 3, 1, 2).float() / 255
        return warp(images, np.stack(maps), (self.crop, self.crop)).clamp(0, 1)
