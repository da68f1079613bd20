// ScanCanvas: one <canvas> showing the scan image with boxes drawn over it, zoom and pan.
// Frames: boxes arrive as xyxy in ORIGINAL image pixels; screen = image * scale + offset, in CSS
// pixels of the canvas element (the backing store is multiplied by devicePixelRatio).

// Okabe-Ito palette: distinguishable with the common colour-vision deficiencies.
export const PALETTE = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"];

export class ScanCanvas {
  constructor(canvas, { onSelect, onDrawn }) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.picture = null;     // canvas of the current display mode, image-sized
    this.w = 0;
    this.h = 0;
    this.boxes = [];         // {item, box, color, text, dashed, faded, selected}
    this.scale = 1;
    this.ox = 0;
    this.oy = 0;
    this.drawMode = false;
    this.drag = null;
    this.sketch = null;      // box being drawn, image frame
    this.onSelect = onSelect;
    this.onDrawn = onDrawn;
    new ResizeObserver(() => this.resize()).observe(canvas);
    canvas.addEventListener("wheel", (e) => this.wheel(e), { passive: false });
    canvas.addEventListener("mousedown", (e) => this.down(e));
    window.addEventListener("mousemove", (e) => this.move(e));
    window.addEventListener("mouseup", (e) => this.up(e));
  }

  resize() {
    const r = this.canvas.getBoundingClientRect();
    const dpr = window.devicePixelRatio || 1;
    this.cw = r.width;
    this.ch = r.height;
    this.canvas.width = Math.max(1, Math.round(r.width * dpr));
    this.canvas.height = Math.max(1, Math.round(r.height * dpr));
    if (this.picture && !this.userMoved) this.fit();
    this.draw();
  }

  setPicture(picture, keepView) {
    const sameSize = this.picture && picture && picture.width === this.w && picture.height === this.h;
    this.picture = picture;
    this.w = picture ? picture.width : 0;
    this.h = picture ? picture.height : 0;
    if (!(keepView && sameSize)) this.fit();
    this.draw();
  }

  setBoxes(boxes) {
    this.boxes = boxes;
    this.draw();
  }

  fit() {
    this.userMoved = false;
    if (!this.w || !this.cw) return;
    this.scale = Math.min(this.cw / this.w, this.ch / this.h);
    this.ox = (this.cw - this.w * this.scale) / 2;
    this.oy = (this.ch - this.h * this.scale) / 2;
    this.draw();
  }

  zoomAt(factor, sx, sy) {
    const s = Math.min(40, Math.max(0.05, this.scale * factor));
    // Keep the image point under (sx, sy) fixed.
    this.ox = sx - ((sx - this.ox) * s) / this.scale;
    this.oy = sy - ((sy - this.oy) * s) / this.scale;
    this.scale = s;
    this.userMoved = true;
    this.draw();
  }

  zoomCentre(factor) {
    this.zoomAt(factor, this.cw / 2, this.ch / 2);
  }

  panBy(dx, dy) {
    this.ox += dx;
    this.oy += dy;
    this.userMoved = true;
    this.draw();
  }

  toImage(sx, sy) {
    return [(sx - this.ox) / this.scale, (sy - this.oy) / this.scale];
  }

  local(e) {
    const r = this.canvas.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top];
  }

  wheel(e) {
    e.preventDefault();
    const [sx, sy] = this.local(e);
    this.zoomAt(Math.pow(1.0015, -e.deltaY), sx, sy);
  }

  down(e) {
    if (e.button !== 0) return;
    const [sx, sy] = this.local(e);
    this.drag = { sx, sy, ox: this.ox, oy: this.oy, moved: false };
    if (this.drawMode) {
      const [x, y] = this.toImage(sx, sy);
      this.sketch = [x, y, x, y];
    }
    e.preventDefault();
  }

  move(e) {
    if (!this.drag) return;
    const [sx, sy] = this.local(e);
    if (Math.abs(sx - this.drag.sx) + Math.abs(sy - this.drag.sy) > 3) this.drag.moved = true;
    if (this.drawMode && this.sketch) {
      const [x, y] = this.toImage(sx, sy);
      this.sketch[2] = x;
      this.sketch[3] = y;
    } else {
      this.ox = this.drag.ox + sx - this.drag.sx;
      this.oy = this.drag.oy + sy - this.drag.sy;
      this.userMoved = true;
    }
    this.draw();
  }

  up(e) {
    if (!this.drag) return;
    const drag = this.drag;
    this.drag = null;
    if (this.drawMode && this.sketch) {
      const [x1, y1, x2, y2] = this.sketch;
      const box = [Math.min(x1, x2), Math.min(y1, y2), Math.max(x1, x2), Math.max(y1, y2)];
      if (drag.moved) this.onDrawn(box);
      else this.sketch = null;
      this.draw();
      return;
    }
    if (!drag.moved) {
      const [x, y] = this.toImage(...this.local(e));
      // Smallest box under the pointer wins, so nested boxes stay selectable.
      const hits = this.boxes
        .filter((b) => x >= b.box[0] && x <= b.box[2] && y >= b.box[1] && y <= b.box[3])
        .sort((a, b) => (a.box[2] - a.box[0]) * (a.box[3] - a.box[1]) - (b.box[2] - b.box[0]) * (b.box[3] - b.box[1]));
      if (hits.length) this.onSelect(hits[0].item);
    }
  }

  draw() {
    const ctx = this.ctx;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#111";
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    if (!this.picture) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.imageSmoothingEnabled = this.scale < 2;  // show real pixels when zoomed in
    ctx.drawImage(this.picture, this.ox, this.oy, this.w * this.scale, this.h * this.scale);
    for (const b of this.boxes) this.drawBox(b);
    if (this.sketch) {
      this.drawBox({ box: this.sketch, color: "#ffffff", text: "new box", dashed: true, selected: true });
    }
  }

  drawBox(b) {
    const ctx = this.ctx;
    const x = b.box[0] * this.scale + this.ox;
    const y = b.box[1] * this.scale + this.oy;
    const w = (b.box[2] - b.box[0]) * this.scale;
    const h = (b.box[3] - b.box[1]) * this.scale;
    const lw = b.selected ? 3 : 2;
    ctx.save();
    ctx.globalAlpha = b.faded ? 0.55 : 1;
    ctx.setLineDash(b.dashed ? [6, 4] : []);
    // A dark halo under the colour keeps the box visible on any part of a pseudo-colour scan.
    ctx.strokeStyle = "#000";
    ctx.lineWidth = lw + 2;
    ctx.strokeRect(x, y, w, h);
    ctx.strokeStyle = b.color;
    ctx.lineWidth = lw;
    ctx.strokeRect(x, y, w, h);
    if (b.selected) {
      // Selection ring just outside the box; translucent so it never reads as image content.
      ctx.setLineDash([4, 3]);
      ctx.strokeStyle = "rgba(255, 255, 255, 0.8)";
      ctx.lineWidth = 1;
      ctx.strokeRect(x - lw - 2, y - lw - 2, w + 2 * lw + 4, h + 2 * lw + 4);
    }
    if (b.text) {
      ctx.setLineDash([]);
      ctx.font = "bold 12px system-ui, sans-serif";
      const tw = ctx.measureText(b.text).width + 8;
      const ty = y - 18 >= 0 ? y - 18 : y + h;   // above the box, or below it at the top edge
      ctx.fillStyle = b.color;
      ctx.fillRect(x - lw / 2, ty, tw, 17);
      ctx.fillStyle = "#000";
      ctx.fillText(b.text, x + 4 - lw / 2, ty + 13);   // canvas text: never parsed as markup
    }
    ctx.restore();
  }
}
