"""Speech -> log-power spectrogram of 257 x 300 (512-point FFT, 25 ms window, 10 ms hop)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torchaudio

from automm_media.decode import SAMPLE_RATE

N_FFT = 512
WIN_LENGTH = 400  # 25 ms at 16 kHz
HOP_LENGTH = 160  # 10 ms at 16 kHz
FRAMES = 300


class LogSpectrogram(torch.nn.Module):
    """Waveform ``(n,)`` at 16 kHz -> ``(1, 257, 300)``: the first 3 s (zero-padded when
    shorter), power spectrogram in dB, standardised per clip (zero mean, unit variance)."""

    def __init__(self) -> None:
        super().__init__()
        self.spec = torchaudio.transforms.Spectrogram(n_fft=N_FFT, win_length=WIN_LENGTH,
                                                      hop_length=HOP_LENGTH, power=2.0)
        self.to_db = torchaudio.transforms.AmplitudeToDB(stype="power", top_db=80.0)

    @staticmethod
    def describe() -> dict[str, Any]:
        """Settings for the cache manifest."""
        return {"sample_rate": SAMPLE_RATE, "n_fft": N_FFT, "win_length": WIN_LENGTH,
                "hop_length": HOP_LENGTH, "frames": FRAMES, "window": "hann",
                "scale": "dB (top 80 dB), standardised per clip", "span": "first 3 s, zero-padded"}

    def forward(self, wave: torch.Tensor | np.ndarray) -> torch.Tensor:
        x = torch.as_tensor(wave, dtype=torch.float32).reshape(-1)
        need = FRAMES * HOP_LENGTH
        x = torch.nn.functional.pad(x[:need], (0, max(0, need - len(x))))
        db = self.to_db(self.spec(x))[:, :FRAMES]
        return ((db - db.mean()) / db.std().clamp_min(1e-6)).unsqueeze(0)
