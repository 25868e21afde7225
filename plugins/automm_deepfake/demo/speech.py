"""A small source-filter speech synthesiser and a mel + Griffin-Lim voice-conversion path.

Source: a harmonic glottal spectrum (per-voice pitch, jitter, shimmer, spectral tilt,
breathiness) plus band-limited noise for fricatives, bursts and aspiration. Filter: four
formant resonators whose centre frequencies follow a phone sequence (vowels from the
Peterson-Barney averages, scaled by the voice's vocal-tract factor). Synthesis is additive:
each harmonic's amplitude is the filter's gain at its frequency, at a 5 ms control rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torchaudio

SR = 16000
CONTROL = 0.005  # seconds per control frame
VOWELS = {  # F1..F4 (Hz) of an average adult voice
    "a": (730, 1090, 2440, 3400), "e": (530, 1840, 2480, 3500), "i": (270, 2290, 3010, 3600),
    "o": (570, 840, 2410, 3300), "u": (300, 870, 2240, 3200), "ae": (660, 1720, 2410, 3400),
    "er": (490, 1350, 1690, 3300),
}
VOICED_CONSONANTS = {"m": (250, 1100, 2300, 3300), "n": (250, 1600, 2500, 3400),
                     "l": (360, 1300, 2700, 3400), "r": (420, 1300, 1600, 3300)}
NOISE_BANDS = {"s": (4000, 7500), "sh": (2000, 5000), "f": (1200, 7000), "h": (400, 3500),
               "burst": (300, 7000)}
BANDWIDTHS = np.array([80.0, 100.0, 140.0, 200.0])


@dataclass(frozen=True)
class Voice:
    """Per-identity voice parameters."""

    f0: float  # mean pitch, Hz
    tract: float  # formant scale (shorter vocal tract -> higher formants)
    jitter: float
    shimmer: float
    breath: float
    tilt: float  # source roll-off in dB per octave
    rate: float  # syllables per second

    @classmethod
    def random(cls, rng: np.random.Generator) -> Voice:
        """A plausible adult voice."""
        high = rng.random() < 0.5
        return cls(f0=float(rng.uniform(165, 240) if high else rng.uniform(85, 140)),
                   tract=float(rng.uniform(1.05, 1.18) if high else rng.uniform(0.88, 1.02)),
                   jitter=float(rng.uniform(0.004, 0.012)), shimmer=float(rng.uniform(0.03, 0.08)),
                   breath=float(rng.uniform(0.02, 0.12)), tilt=float(rng.uniform(9, 14)),
                   rate=float(rng.uniform(3.6, 5.2)))


@dataclass(frozen=True)
class Track:
    """Control-rate description of what is said (independent of the voice)."""

    formants: np.ndarray  # (T, 4) unscaled formant targets
    voicing: np.ndarray  # (T,) voiced amplitude 0..1
    noise: dict[str, np.ndarray]  # band -> (T,) amplitude
    intonation: np.ndarray  # (T,) pitch multiplier around 1
    seed: int

    @property
    def mouth(self) -> np.ndarray:
        """Mouth opening 0..1 per control frame (open vowels open the jaw more)."""
        openness = np.clip((self.formants[:, 0] - 220.0) / 520.0, 0.0, 1.0)
        return np.clip(self.voicing * (0.25 + 0.75 * openness), 0.0, 1.0)


def _smooth(x: np.ndarray, frames: int) -> np.ndarray:
    if frames <= 1:
        return x
    kernel = np.hanning(frames + 2)[1:-1]
    kernel /= kernel.sum()
    pad = [(frames, frames)] + [(0, 0)] * (x.ndim - 1)
    xp = np.pad(x, pad, mode="edge")
    out = np.apply_along_axis(lambda v: np.convolve(v, kernel, mode="same"), 0, xp)
    return out[frames:-frames]


def utterance(rng: np.random.Generator, *, duration: float, lead: float, rate: float,
              seed: int) -> Track:
    """A random syllable sequence from ``lead`` seconds until shortly before ``duration``."""
    n = round(duration / CONTROL)
    formants = np.tile(np.array(VOWELS["er"], float), (n, 1))
    voicing = np.zeros(n)
    noise = {k: np.zeros(n) for k in NOISE_BANDS}
    t = lead
    end = duration - rng.uniform(0.15, 0.35)
    syllable = 1.0 / rate
    while t < end - 0.12:
        kind = rng.choice(["fric", "stop", "voiced", "none"], p=[0.3, 0.3, 0.25, 0.15])
        c_len = rng.uniform(0.05, 0.1) * syllable / 0.22
        i0, i1 = int(t / CONTROL), int(min(t + c_len, end) / CONTROL)
        if kind == "fric":
            band = str(rng.choice(["s", "sh", "f", "h"]))
            noise[band][i0:i1] = rng.uniform(0.25, 0.5)
        elif kind == "stop":
            burst = max(i1 - 3, i0)
            noise["burst"][burst:i1] = rng.uniform(0.4, 0.7)
        elif kind == "voiced":
            sym = str(rng.choice(list(VOICED_CONSONANTS)))
            formants[i0:i1] = VOICED_CONSONANTS[sym]
            voicing[i0:i1] = 0.35
        if kind != "none":
            t += c_len
        v_len = syllable * rng.uniform(0.6, 1.1)
        i0, i1 = int(t / CONTROL), int(min(t + v_len, end) / CONTROL)
        formants[i0:i1] = VOWELS[str(rng.choice(list(VOWELS)))]
        voicing[i0:i1] = rng.uniform(0.7, 1.0)
        t += v_len
        if rng.random() < 0.12:
            t += rng.uniform(0.08, 0.2)  # a short pause
    # intonation: declination plus a few accents
    times = np.arange(n) * CONTROL
    into = 1.08 - 0.12 * (times - lead) / max(duration - lead, 1e-6)
    for _ in range(int(rng.integers(2, 5))):
        c = rng.uniform(lead, end)
        into += rng.uniform(0.04, 0.12) * np.exp(-0.5 * ((times - c) / 0.12) ** 2)
    return Track(formants=_smooth(formants, 8), voicing=_smooth(voicing, 3),
                 noise={k: _smooth(v, 2) for k, v in noise.items()}, intonation=into, seed=seed)


def _resonators(freq: np.ndarray, formants: np.ndarray) -> np.ndarray:
    """Gain of 4 cascaded 2-pole resonators (unit gain at 0 Hz) at ``freq`` ``(T, K)``."""
    gain = np.ones_like(freq)
    for i in range(4):
        f = formants[:, i : i + 1]
        gain *= f**2 / np.sqrt((f**2 - freq**2) ** 2 + (BANDWIDTHS[i] * freq) ** 2)
    return gain


def synthesise(track: Track, voice: Voice, *, level: float = 0.05) -> np.ndarray:
    """The clean waveform (float32, :data:`SR` Hz) of ``track`` spoken with ``voice``; the RMS
    of active speech is ``level``."""
    rng = np.random.default_rng([track.seed, int(voice.f0 * 1000)])
    t_ctrl = len(track.voicing)
    n = round(t_ctrl * CONTROL * SR)
    drift = _smooth(rng.standard_normal(t_ctrl), 10) * voice.jitter * 6
    f0_ctrl = voice.f0 * track.intonation * (1 + drift)
    formants = track.formants * voice.tract
    k = np.arange(1, int(7600 / (voice.f0 * 0.8)) + 1)
    freq = f0_ctrl[:, None] * k[None, :]
    tilt = (freq / 100.0) ** (-voice.tilt / 6.02)
    amp = _resonators(freq, formants) * tilt * (freq < 7600)
    amp *= (track.voicing * (1 + voice.shimmer * _smooth(rng.standard_normal(t_ctrl), 4)))[:, None]
    # control rate -> samples (linear interpolation)
    pos = np.arange(n) / (CONTROL * SR)
    i0 = np.minimum(pos.astype(int), t_ctrl - 1)
    i1 = np.minimum(i0 + 1, t_ctrl - 1)
    w = (pos - i0)[:, None]
    f0 = f0_ctrl[i0] * (1 - w[:, 0]) + f0_ctrl[i1] * w[:, 0]
    phase = (2 * np.pi * np.cumsum(f0) / SR) % (2 * np.pi)
    a = (amp[i0] * (1 - w) + amp[i1] * w).astype(np.float32)
    harmonics = np.sin(phase.astype(np.float32)[:, None] * k.astype(np.float32)[None, :])
    voiced = np.einsum("nk,nk->n", a, harmonics)
    noise = np.zeros(n)
    white = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / SR)
    for band, (lo, hi) in NOISE_BANDS.items():
        gain = track.noise[band] + (voice.breath * track.voicing if band == "h" else 0)
        if gain.any():  # band-limited noise: a smooth pass band in the frequency domain
            response = 1 / (1 + (lo / np.maximum(freqs, 1)) ** 8) / (1 + (freqs / hi) ** 8)
            noise += np.interp(pos, np.arange(t_ctrl), gain) * np.fft.irfft(white * response, n)
    speech = voiced / max(float(np.abs(voiced).max()), 1e-9) + 0.35 * noise
    active = np.interp(pos, np.arange(t_ctrl), np.maximum(track.voicing, 0)) > 0.1
    rms = float(np.sqrt(np.mean(speech[active] ** 2))) if active.any() else 1.0
    return (speech * (level / max(rms, 1e-9))).astype(np.float32)


def vocode(wave: np.ndarray, seed: int, *, level: float = 0.05) -> np.ndarray:
    """Re-synthesise clean speech ``wave`` from its 80-band mel spectrogram with Griffin-Lim
    (the mel -> waveform stage of TTS and voice-cloning systems) at the same speech level."""
    x = torch.from_numpy(wave.astype(np.float32))
    n_fft, hop = 1024, 256
    mel = torchaudio.transforms.MelSpectrogram(SR, n_fft=n_fft, hop_length=hop, n_mels=80, power=2.0)
    inv = torchaudio.transforms.InverseMelScale(n_fft // 2 + 1, n_mels=80, sample_rate=SR)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        spec = inv(mel(x)).clamp_min(0)
        gl = torchaudio.transforms.GriffinLim(n_fft=n_fft, hop_length=hop, n_iter=32, power=2.0,
                                              length=len(wave))
        y = gl(spec).numpy().astype(np.float64)
    active = np.abs(wave) > 1e-3
    rms = float(np.sqrt(np.mean(y[active] ** 2))) if active.any() else 1.0
    return (y * (level / max(rms, 1e-9))).astype(np.float32)


def room(wave: np.ndarray, seed: int, *, noise_floor: float = 1e-3) -> np.ndarray:
    """The recording: ``wave`` plus a white noise floor of RMS ``noise_floor``, clipped to [-1, 1]."""
    noise = noise_floor * np.random.default_rng(seed).standard_normal(len(wave))
    return np.clip(wave + noise, -1, 1).astype(np.float32)
