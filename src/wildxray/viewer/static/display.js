// Display modes: every mode is a pixel operation on a canvas, computed once per scan and mode.
// Inputs are same-origin images (so reading their pixels is allowed); outputs are canvases of the
// image's own size, drawn by ScanCanvas under the boxes. Channel order is RGBA (canvas ImageData).

export const MODES = [
  { id: "colour", name: "Pseudo-colour", key: "1" },
  { id: "grey", name: "Grey", key: "2" },
  { id: "negative", name: "Negative", key: "3" },
  { id: "edge", name: "Edge-enhanced", key: "4" },
  { id: "high", name: "High energy", key: "5", needs: "high" },
  { id: "low", name: "Low energy", key: "6", needs: "low" },
];

function toCanvas(img) {
  const c = document.createElement("canvas");
  c.width = img.naturalWidth || img.width;
  c.height = img.naturalHeight || img.height;
  c.getContext("2d").drawImage(img, 0, 0);
  return c;
}

function mapPixels(src, fn) {
  const out = toCanvas(src);
  const ctx = out.getContext("2d", { willReadFrequently: true });
  const data = ctx.getImageData(0, 0, out.width, out.height);
  fn(data.data, out.width, out.height);
  ctx.putImageData(data, 0, 0);
  return out;
}

// Rec. 601 luma, the usual grey for screening displays.
function greyPixels(p) {
  for (let i = 0; i < p.length; i += 4) {
    const y = 0.299 * p[i] + 0.587 * p[i + 1] + 0.114 * p[i + 2];
    p[i] = p[i + 1] = p[i + 2] = y;
  }
}

function invertPixels(p) {
  for (let i = 0; i < p.length; i += 4) {
    p[i] = 255 - p[i];
    p[i + 1] = 255 - p[i + 1];
    p[i + 2] = 255 - p[i + 2];
  }
}

// Unsharp mask per channel: out = x + amount * (x - boxblur_r(x)). Thin organic edges (a horn
// tip, scale outlines) stand out while the pseudo-colour stays readable.
function unsharpPixels(p, w, h, radius = 2, amount = 1.6) {
  const src = Float32Array.from(p);
  const tmp = new Float32Array(p.length);
  const blur = new Float32Array(p.length);
  const n = 2 * radius + 1;
  for (let y = 0; y < h; y++) {          // horizontal pass
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let k = -radius; k <= radius; k++) {
          const xx = Math.min(w - 1, Math.max(0, x + k));
          s += src[(y * w + xx) * 4 + c];
        }
        tmp[(y * w + x) * 4 + c] = s / n;
      }
    }
  }
  for (let y = 0; y < h; y++) {          // vertical pass
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let k = -radius; k <= radius; k++) {
          const yy = Math.min(h - 1, Math.max(0, y + k));
          s += tmp[(yy * w + x) * 4 + c];
        }
        blur[(y * w + x) * 4 + c] = s / n;
      }
    }
  }
  for (let i = 0; i < p.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      const v = src[i + c] + amount * (src[i + c] - blur[i + c]);
      p[i + c] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
}

// sources: {image, high, low} HTMLImageElements (high/low only for dual-energy scans).
export function renderMode(mode, sources) {
  switch (mode) {
    case "grey":
      return sources.high ? toCanvas(sources.high) : mapPixels(sources.image, greyPixels);
    case "negative":
      return mapPixels(sources.image, invertPixels);
    case "edge":
      return mapPixels(sources.image, unsharpPixels);
    case "high":
    case "low":
      return sources[mode] ? toCanvas(sources[mode]) : toCanvas(sources.image);
    default:
      return toCanvas(sources.image);
  }
}

export function availableModes(views) {
  return MODES.filter((m) => !m.needs || views.includes(m.needs));
}
