"""Faces for the demo corpus: real photographs, animated, and landmark-aligned face swaps.

The photographs are scikit-image's ``lfw_subset`` (100 grey 25 x 25 face crops from Labeled
Faces in the Wild, bundled with the package): each becomes one identity, upscaled, tinted,
given a fixed fine texture (the detail a 25-pixel crop lacks) and set on a smooth backdrop
(see :func:`identity_image`).
A video animates the photograph with a smooth head motion (rotation, scale, shift) and a
jaw/mouth opening driven by the speech; the camera adds sensor noise.

A face swap follows the usual pipeline: the donor face is aligned to the target's MTCNN
landmarks with a similarity transform, colour-matched inside the face, passed through a
"generator" bottleneck (the frame at 40 x 40, i.e. the face at about 30 pixels) and blended
with a feathered ellipse over the target's inner face, frame by frame (with the small
per-frame jitter of landmark tracking). The swapped region is rendered without the camera's
noise, as a generator would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from automm_media.faces import invert_affine, similarity, warp

SIZE = 128
SKIN_TINTS = np.array([(1.00, 0.84, 0.72), (0.98, 0.78, 0.62), (0.90, 0.68, 0.52), (0.72, 0.52, 0.40),
                       (0.58, 0.42, 0.32), (1.00, 0.88, 0.80)])


def lfw_faces() -> np.ndarray:
    """The 100 face images of scikit-image's bundled LFW subset, ``(100, 25, 25)`` in [0, 1]."""
    from skimage.data import lfw_subset

    return lfw_subset()[:100]


def _blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur of ``(N, 1, H, W)``."""
    r = max(1, round(3 * sigma))
    k = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=torch.float32) / sigma) ** 2)
    k = k / k.sum()
    x = F.conv2d(F.pad(x, (r, r, 0, 0), mode="reflect"), k.view(1, 1, 1, -1))
    return F.conv2d(F.pad(x, (0, 0, r, r), mode="reflect"), k.view(1, 1, -1, 1))


def identity_image(face: np.ndarray, rng: np.random.Generator, inner: int = 100, detail: float = 0.03
                   ) -> torch.Tensor:
    """A grey face crop -> ``(3, SIZE, SIZE)`` colour portrait in [0, 1].

    The crop is upscaled (bicubic) to ``inner`` pixels, given a fixed fine texture (band-pass
    noise of RMS ``detail``, modulated by brightness, standing in for the skin and hair detail
    a 25-pixel crop lacks), tinted, and set with a soft oval edge on a smooth backdrop.
    """
    t = torch.from_numpy(np.asarray(face, np.float32))[None, None]
    big = F.interpolate(t, size=(inner, inner), mode="bicubic", align_corners=False).clamp(0, 1)
    gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    noise = torch.randn((1, 1, inner, inner), generator=gen)
    band = _blur(noise, 1.0) - _blur(noise, 2.5)
    big = (big * (1 + detail / band.std() * band))[0].clamp(0, 1)
    tint = SKIN_TINTS[rng.integers(len(SKIN_TINTS))] * rng.uniform(0.92, 1.05, 3)
    big = big ** rng.uniform(0.85, 1.15) * torch.tensor(tint, dtype=torch.float32).view(3, 1, 1)
    top = rng.uniform(0.3, 0.75) + rng.uniform(-0.07, 0.07, 3)  # a muted wall
    bottom = top * rng.uniform(0.5, 0.9)
    ramp = torch.linspace(0, 1, SIZE).view(1, SIZE, 1)
    image = (torch.tensor(top).view(3, 1, 1) * (1 - ramp) + torch.tensor(bottom).view(3, 1, 1) * ramp)
    image = image + 0.3 * _blur(torch.randn((1, 1, SIZE, SIZE), generator=gen), 6.0)[0]
    image = image.float().expand(3, SIZE, SIZE).clone()
    ys, xs = torch.meshgrid(torch.linspace(-1, 1, inner), torch.linspace(-1, 1, inner), indexing="ij")
    alpha = torch.sigmoid((1 - torch.sqrt((xs / 1.08) ** 2 + (ys / 1.12) ** 2)) * 14)
    y0 = x0 = (SIZE - inner) // 2
    region = image[:, y0:y0 + inner, x0:x0 + inner]
    image[:, y0:y0 + inner, x0:x0 + inner] = alpha * big + (1 - alpha) * region
    return image.clamp(0, 1)


@dataclass(frozen=True)
class Motion:
    """A smooth head motion: per-frame rotation (deg), scale and shift (px)."""

    angle: np.ndarray
    scale: np.ndarray
    shift: np.ndarray  # (T, 2)

    @classmethod
    def random(cls, rng: np.random.Generator, frames: int, fps: float) -> Motion:
        t = np.arange(frames) / fps

        def wave(amp: float) -> np.ndarray:
            f1, f2 = rng.uniform(0.15, 0.6, 2)
            p1, p2 = rng.uniform(0, 2 * np.pi, 2)
            return amp * (0.7 * np.sin(2 * np.pi * f1 * t + p1) + 0.3 * np.sin(2 * np.pi * f2 * t + p2))

        return cls(angle=wave(rng.uniform(1.5, 4.0)), scale=1.0 + wave(rng.uniform(0.01, 0.03)),
                   shift=np.stack([wave(rng.uniform(1.0, 3.0)), wave(rng.uniform(1.0, 2.5))], axis=1))

    def jittered(self, rng: np.random.Generator, pixels: float, degrees: float) -> Motion:
        """The same motion plus independent per-frame jitter (landmark-tracking noise)."""
        n = len(self.angle)
        return Motion(self.angle + rng.normal(0, degrees, n), self.scale,
                      self.shift + rng.normal(0, pixels, (n, 2)))


def _maps(motion: Motion, centre: np.ndarray) -> np.ndarray:
    """Per frame, the 2 x 3 map output pixel -> source pixel (rotation/scale about ``centre``)."""
    out = []
    for a, s, d in zip(np.deg2rad(motion.angle), motion.scale, motion.shift, strict=True):
        rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]) * s
        fwd = np.concatenate([rot, (centre + d - rot @ centre)[:, None]], axis=1)
        out.append(invert_affine(fwd))
    return np.stack(out)


def render(image: torch.Tensor, landmarks: np.ndarray, motion: Motion, mouth: np.ndarray) -> torch.Tensor:
    """Animate ``image`` ``(C, H, W)``: head ``motion`` and a mouth opening per frame
    (``mouth`` in [0, 1]) around the landmarks' mouth corners -> ``(T, C, H, W)``."""
    frames = len(mouth)
    c, h, w = image.shape
    centre = landmarks.mean(0)
    maps = torch.as_tensor(_maps(motion, centre), dtype=torch.float32)
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32),
                            indexing="ij")
    pix = torch.stack([xs, ys, torch.ones_like(xs)], dim=-1).view(1, h * w, 3)
    src = (pix @ maps.transpose(1, 2)).view(frames, h, w, 2)  # source pixel of every output pixel
    ml, mr = landmarks[3], landmarks[4]
    width = float(np.linalg.norm(mr - ml))
    mx, my = (ml + mr) / 2
    drop = torch.as_tensor(mouth, dtype=torch.float32).view(-1, 1, 1) * 0.22 * width
    bump = torch.exp(-0.5 * (((src[..., 0] - mx) / (0.6 * width)) ** 2
                             + ((src[..., 1] - my - 0.45 * width) / (0.5 * width)) ** 2))
    below = torch.sigmoid((src[..., 1] - my) / 1.5)
    src_y = src[..., 1] - drop * bump * below  # jaw drop: content below the mouth moves down
    grid = torch.stack([(2 * src[..., 0] + 1) / w - 1, (2 * src_y + 1) / h - 1], dim=-1)
    out = F.grid_sample(image.expand(frames, c, h, w), grid, mode="bilinear", padding_mode="reflection",
                        align_corners=False)
    # the open mouth: a dark gap between the lips
    gap = ((src[..., 0] - mx) / (0.4 * width)) ** 2 + ((src[..., 1] - my - drop / 2)
                                                       / (drop / 2 + 0.6)) ** 2
    dark = torch.sigmoid((1 - gap) * 4) * (drop > 0.3).float()
    shade = 1 - 0.55 * dark.unsqueeze(1)
    if c == 4:  # an alpha channel is not shaded
        shade = torch.cat([shade.expand(-1, 3, -1, -1), torch.ones_like(shade)], dim=1)
    return out * shade


def inner_face_mask(landmarks: np.ndarray, size: int = SIZE, feather: float = 5.0) -> torch.Tensor:
    """A feathered ellipse over eyes, nose and mouth ``(1, size, size)`` in [0, 1]."""
    eyes, mouth = landmarks[:2].mean(0), landmarks[3:].mean(0)
    eye_dist = float(np.linalg.norm(landmarks[1] - landmarks[0]))
    centre = (eyes + mouth) / 2 + np.array([0.0, 0.08 * eye_dist])
    a, b = 1.05 * eye_dist, 0.62 * float(np.linalg.norm(mouth - eyes)) + 0.55 * eye_dist
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
    r = np.sqrt(((xs - centre[0]) / a) ** 2 + ((ys - centre[1]) / b) ** 2)
    edge = (1 - r) * min(a, b) / feather
    return torch.from_numpy(1 / (1 + np.exp(-edge)))[None].float()


def swap_source(target: torch.Tensor, target_lm: np.ndarray, donor: torch.Tensor, donor_lm: np.ndarray,
                generator_size: int = 40) -> torch.Tensor:
    """The generator's output in the target's frame: donor aligned onto the target's landmarks,
    colour-matched inside the face, through a ``generator_size`` bottleneck; plus the blend
    mask as a 4th channel -> ``(4, H, W)``."""
    mask = inner_face_mask(target_lm, target.shape[-1])
    aligned = warp(donor[None], similarity(target_lm, donor_lm)[None], target.shape[-2:],
                   padding="border")[0]
    inside = mask[0] > 0.5
    for ch in range(3):
        d, t = aligned[ch][inside], target[ch][inside]
        aligned[ch] = (aligned[ch] - d.mean()) / d.std().clamp_min(1e-4) * t.std() + t.mean()
    low = F.interpolate(aligned[None], size=(generator_size, generator_size), mode="bilinear",
                        antialias=True, align_corners=False)
    gen = F.interpolate(low, size=target.shape[-2:], mode="bilinear", align_corners=False)[0]
    return torch.cat([gen.clamp(0, 1), mask], dim=0)


def camera(frames: torch.Tensor, rng: np.random.Generator, sigma: float) -> torch.Tensor:
    """Sensor noise and a slight exposure flicker on ``(T, 3, H, W)`` frames."""
    gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    flicker = torch.from_numpy(rng.normal(1.0, 0.01, (len(frames), 1, 1, 1))).float()
    return (frames * flicker + sigma * torch.randn(frames.shape, generator=gen)).clamp(0, 1)
