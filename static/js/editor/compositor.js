// The preview's picture: draws the timeline at one time onto a <canvas> the shape of the
// project canvas, with the geometry the export renders (timeline/rules.py): black, then the
// video segment(s) with their fit and fades (two, blended, inside a transition), then text
// segments, then captions. Gaps are black. The functions above the class are pure, so the
// page and the tests can ask what a frame is made of without drawing it.

export const CANVAS_SHAPES = { "16:9": [16, 9], "9:16": [9, 16], "1:1": [1, 1], "4:5": [4, 5] };
// Text sizes are given on a canvas whose short side is this (rules.py).
export const REFERENCE_SHORT_SIDE = 1080;
// The blurred fill behind a "blur" picture, as a Gaussian's sigma in shares of the short side:
// the export blurs a quarter-size fill with two passes of a radius-10 box (variance
// 2 x (21^2 - 1) / 12 px^2 at quarter size), about 34 px at 1080.
const BLUR_SHARE = (4 * Math.sqrt((2 * (21 * 21 - 1)) / 12)) / REFERENCE_SHORT_SIDE;
const EPS = 1e-6;

const even = (value) => Math.max(2, Math.round(value / 2) * 2);

// The canvas in pixels for a shape ("9:16") and a short side (1080 → 1080 x 1920).
export function canvasSize(shape, shortSide = REFERENCE_SHORT_SIDE) {
  const [w, h] = CANVAS_SHAPES[shape] || CANVAS_SHAPES["16:9"];
  return w >= h
    ? { width: even((shortSide * w) / h), height: even(shortSide) }
    : { width: even(shortSide), height: even((shortSide * h) / w) };
}

// Where a picture of srcW x srcH goes on a W x H canvas: "fit" shows it whole (bars),
// "fill" covers the canvas (overflow cropped); both centred.
export function placeRect(srcW, srcH, W, H, mode) {
  if (!srcW || !srcH) return { x: 0, y: 0, w: W, h: H };
  const scale = mode === "fill" ? Math.max(W / srcW, H / srcH) : Math.min(W / srcW, H / srcH);
  const w = srcW * scale;
  const h = srcH * scale;
  return { x: (W - w) / 2, y: (H - h) / 2, w, h };
}

export const endOf = (s) => Number(s.start_time) + Number(s.duration);

// Picture (and text) level from a segment's own fades: 0 at its ends, 1 between (linear).
export function fadeLevel(seg, t) {
  const start = Number(seg.start_time);
  const end = endOf(seg);
  const fadeIn = Number(seg.fade_in || 0);
  const fadeOut = Number(seg.fade_out || 0);
  let level = 1;
  if (fadeIn > 0) level = Math.min(level, (t - start) / fadeIn);
  if (fadeOut > 0) level = Math.min(level, (end - t) / fadeOut);
  return Math.max(0, Math.min(1, level));
}

const isVideo = (s) => s.layer === "video";

// The video segment ending exactly where `seg` starts (the transition's "from" side).
export function previousVideo(segments, seg) {
  const start = Number(seg.start_time);
  return segments.find((s) => isVideo(s) && s !== seg && Math.abs(endOf(s) - start) < 0.0015) || null;
}

// What the video layer shows at t: null (black), {seg} or, inside a transition,
// {from, to, type, progress} with progress 0 → 1 across the transition.
export function videoAt(segments, t) {
  for (const seg of segments) {
    if (!isVideo(seg) || !seg.transition) continue;
    const half = Number(seg.transition.duration) / 2;
    const cut = Number(seg.start_time);
    if (t < cut - half - EPS || t >= cut + half - EPS) continue;
    const from = previousVideo(segments, seg);
    if (!from) continue;
    const progress = Math.max(0, Math.min(1, (t - (cut - half)) / (2 * half)));
    return { from, to: seg, type: seg.transition.type, progress };
  }
  const seg = segments.find((s) => isVideo(s) && Number(s.start_time) <= t + EPS && t < endOf(s) - EPS);
  return seg ? { seg } : null;
}

// The source time a video segment shows at timeline time t (outside the segment inside a
// transition: held at the source's first frame, and at its last one when `clipDuration` is known).
export function sourceTime(seg, t, clipDuration = null) {
  let time = Number(seg.source_start) + (t - Number(seg.start_time));
  if (clipDuration != null) time = Math.min(time, Math.max(0, clipDuration - 0.001));
  return Math.max(0, time);
}

// Timeline time snapped to the start of its frame at `fps` (the frame the export shows).
export function snapToFrame(t, fps) {
  return fps > 0 ? Math.floor(t * fps + 1e-4) / fps : t;
}

function smoothstep(edge0, edge1, x) {
  const t = Math.max(0, Math.min(1, (x - edge0) / (edge1 - edge0)));
  return t * t * (3 - 2 * t);
}

// How FFmpeg's xfade mixes a transition at `progress` (0 → 1; xfade's own progress runs
// 1 → 0): weights of the outgoing picture, the incoming one and a colour, or, for the moving
// ones, where the split or the offset is.
export function transitionMix(type, progress) {
  const P = 1 - progress;
  if (type === "dip_to_black" || type === "dip_to_white") {
    // fadeblack/fadewhite: mix(mix(a, bg, smoothstep(0.8, 1, P)), mix(bg, b, smoothstep(0.2, 1, P)), P)
    const s1 = smoothstep(0.8, 1, P);
    const s2 = smoothstep(0.2, 1, P);
    const from = P * s1;
    const to = (1 - P) * (1 - s2);
    return { kind: "blend", from, to, color: type === "dip_to_black" ? "#000" : "#fff", colorWeight: 1 - from - to };
  }
  if (type === "wipe") return { kind: "wipe", split: P }; // wipeleft: x > W*P shows the new picture
  if (type === "slide") return { kind: "slide", offset: progress }; // slideleft
  return { kind: "blend", from: P, to: 1 - P, color: "#000", colorWeight: 0 }; // crossfade: fade
}

const isText = (s) => s.layer === "text" || s.layer === "caption";

// Text and caption segments showing at t, bottom to top: texts (later start over earlier,
// then by id), then captions.
export function textsAt(segments, t) {
  const showing = segments.filter((s) => isText(s) && s.text && Number(s.start_time) <= t + EPS && t < endOf(s) - EPS);
  const rank = (s) => (s.layer === "caption" ? 1 : 0);
  return showing.sort(
    (a, b) =>
      rank(a) - rank(b) ||
      Number(a.start_time) - Number(b.start_time) ||
      String(a.id ?? a.key ?? "").localeCompare(String(b.id ?? b.key ?? "")),
  );
}

// "#RRGGBB" / "#RRGGBBAA" to a CSS colour.
export function cssColor(hex) {
  if (!hex || !/^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$/.test(hex)) return null;
  const n = (i) => parseInt(hex.slice(i, i + 2), 16);
  const alpha = hex.length === 9 ? n(7) / 255 : 1;
  return `rgba(${n(1)}, ${n(3)}, ${n(5)}, ${alpha})`;
}

// Line layout shared with the export's drawtext chain: lines are LINE_PITCH font sizes apart,
// the block's middle on y, and a line's baseline BASELINE_BELOW_MIDDLE sizes below its middle
// (capitals, about 0.7 of the size tall, sit centred on the line).
export const LINE_PITCH = 1.25;
export const BASELINE_BELOW_MIDDLE = 0.35;

// Lay out a text block on a W x H canvas (rules.py): font size scaled by the short side, each
// line anchored at x by align, the block centred on y, and each line's background box (the
// line's own glyph extent, padded by size / 4), as drawtext draws it.
export function layoutText(ctx, text, W, H) {
  const size = (Number(text.size) * Math.min(W, H)) / REFERENCE_SHORT_SIDE;
  ctx.font = `${size}px "${text.font}"`;
  const rows = String(text.content).split("\n");
  const probe = ctx.measureText("Hg");
  const ascent = probe.fontBoundingBoxAscent ?? size * 0.8;
  const descent = probe.fontBoundingBoxDescent ?? size * 0.2;
  const anchorX = Number(text.x) * W;
  const align = text.align || "center";
  const pad = Math.max(1, Math.round(size / 4));
  const lines = [];
  rows.forEach((row, i) => {
    if (!row) return;
    const metrics = ctx.measureText(row);
    const w = metrics.width;
    const x = align === "left" ? anchorX : align === "right" ? anchorX - w : anchorX - w / 2;
    const middle = Number(text.y) * H + (i - (rows.length - 1) / 2) * LINE_PITCH * size;
    // drawtext's `ascent` is the line's own highest glyph top, so `y = baseline - ascent` puts
    // the glyphs on the baseline; its box is the line's own glyph extent, padded.
    const baseline = middle + BASELINE_BELOW_MIDDLE * size;
    const glyphAscent = metrics.actualBoundingBoxAscent ?? ascent;
    const glyphDescent = metrics.actualBoundingBoxDescent ?? descent;
    const top = baseline - glyphAscent;
    lines.push({ text: row, x, baseline, w, box: { x: x - pad, y: top - pad, w: w + 2 * pad, h: glyphAscent + glyphDescent + 2 * pad } });
  });
  return { size, lines };
}

// Draws frames. `sources.frameFor(seg, t)` returns a drawable (a <video> or <img> showing the
// segment's frame for t) and its natural size, or null while it is not ready.
export class Compositor {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.layers = [document.createElement("canvas"), document.createElement("canvas")];
    this.shape = "";
  }

  // Size the canvas for a project shape; the short side follows the displayed size (sharp on
  // screen, no bigger than the export's 1080).
  resize(shape, shortSide) {
    const side = Math.max(180, Math.min(REFERENCE_SHORT_SIDE, Math.round(shortSide)));
    const { width, height } = canvasSize(shape, side);
    this.shape = shape;
    for (const c of [this.canvas, ...this.layers]) {
      if (c.width !== width || c.height !== height) {
        c.width = width;
        c.height = height;
      }
    }
  }

  draw(segments, t, sources) {
    const { ctx } = this;
    const { width: W, height: H } = this.canvas;
    ctx.save();
    ctx.globalAlpha = 1;
    ctx.globalCompositeOperation = "source-over";
    ctx.filter = "none";
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, W, H);
    const shown = videoAt(segments, t);
    let complete = true;
    if (shown && shown.seg) {
      complete = this.picture(this.layers[0], shown.seg, t, sources);
      ctx.drawImage(this.layers[0], 0, 0);
    } else if (shown) {
      const a = this.picture(this.layers[0], shown.from, t, sources);
      const b = this.picture(this.layers[1], shown.to, t, sources);
      complete = a && b;
      this.blend(shown, W, H);
    }
    for (const seg of textsAt(segments, t)) this.text(seg, t, W, H);
    ctx.restore();
    return complete;
  }

  // One segment's picture on a layer: black, its frame with its fit, faded from/to black.
  picture(layer, seg, t, sources) {
    const ctx = layer.getContext("2d");
    const W = layer.width;
    const H = layer.height;
    ctx.globalAlpha = 1;
    ctx.filter = "none";
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, W, H);
    const frame = sources.frameFor(seg, t);
    if (!frame) return false;
    const level = fadeLevel(seg, t);
    if (level <= 0) return true;
    ctx.globalAlpha = level;
    const fit = seg.fit || "blur";
    if (fit === "blur") {
      const under = placeRect(frame.width, frame.height, W, H, "fill");
      ctx.filter = `blur(${Math.min(W, H) * BLUR_SHARE}px)`;
      ctx.drawImage(frame.image, under.x, under.y, under.w, under.h);
      ctx.filter = "none";
    }
    const at = placeRect(frame.width, frame.height, W, H, fit === "fill" ? "fill" : "fit");
    ctx.drawImage(frame.image, at.x, at.y, at.w, at.h);
    ctx.globalAlpha = 1;
    return true;
  }

  blend(shown, W, H) {
    const { ctx } = this;
    const [from, to] = this.layers;
    const mix = transitionMix(shown.type, shown.progress);
    if (mix.kind === "wipe") {
      const split = Math.floor(W * mix.split);
      ctx.drawImage(from, 0, 0);
      if (split + 1 < W) ctx.drawImage(to, split + 1, 0, W - split - 1, H, split + 1, 0, W - split - 1, H);
    } else if (mix.kind === "slide") {
      const offset = Math.round(mix.offset * W);
      ctx.drawImage(from, -offset, 0);
      ctx.drawImage(to, W - offset, 0);
    } else {
      // A weighted sum: each weighted picture added onto black.
      ctx.globalCompositeOperation = "lighter";
      if (mix.colorWeight > 0 && mix.color !== "#000") {
        ctx.globalAlpha = mix.colorWeight;
        ctx.fillStyle = mix.color;
        ctx.fillRect(0, 0, W, H);
      }
      ctx.globalAlpha = mix.from;
      ctx.drawImage(from, 0, 0);
      ctx.globalAlpha = mix.to;
      ctx.drawImage(to, 0, 0);
      ctx.globalAlpha = 1;
      ctx.globalCompositeOperation = "source-over";
    }
  }

  text(seg, t, W, H) {
    const { ctx } = this;
    const text = seg.text;
    if (!text.content) return;
    const level = fadeLevel(seg, t);
    if (level <= 0) return;
    const layout = layoutText(ctx, text, W, H);
    ctx.globalAlpha = level;
    const background = cssColor(text.background);
    if (background) {
      ctx.fillStyle = background;
      for (const { box } of layout.lines) ctx.fillRect(box.x, box.y, box.w, box.h);
    }
    ctx.fillStyle = cssColor(text.color) || "#fff";
    ctx.textBaseline = "alphabetic";
    ctx.textAlign = "left";
    for (const line of layout.lines) ctx.fillText(line.text, line.x, line.baseline);
    ctx.globalAlpha = 1;
  }
}
