// Media links (posters, filmstrips, waveforms, proxies) expire after MEDIA_URL_TTL seconds.
// The keeper renews them: every clip is fetched again well before its links expire, and a clip
// whose media element failed (an expired or refused link answers 403) is fetched again at once
// so the element can reload from a fresh link.
import { api, listAll } from "../api.js";

const DEFAULT_TTL = 3600;
// A clip whose fresh link failed too is not asked for again before this (no reload loops).
const RENEW_BACKOFF_MS = 10_000;

function configuredTtl() {
  try {
    const config = JSON.parse(document.getElementById("editor-config").textContent);
    return Number(config.mediaUrlTtl) || DEFAULT_TTL;
  } catch {
    return DEFAULT_TTL;
  }
}

export class MediaLinkKeeper {
  constructor(state, { ttl = configuredTtl() } = {}) {
    this.state = state;
    this.lastRenewal = new Map();
    this.pending = new Map();
    // Local links live between TTL/2 and TTL, S3 links TTL: renewing every TTL/3 never lets
    // a link on screen expire.
    const every = Math.max(1000, (ttl * 1000) / 3);
    this.timer = setInterval(() => this.renewAll(), every);
  }

  // Fetch one clip again; resolves true when fresh links arrived (false: backing off, or gone).
  renew(clipId) {
    if (this.pending.has(clipId)) return this.pending.get(clipId);
    const last = this.lastRenewal.get(clipId) || 0;
    if (Date.now() - last < RENEW_BACKOFF_MS) return Promise.resolve(false);
    this.lastRenewal.set(clipId, Date.now());
    const request = api("GET", `/api/clips/${clipId}`)
      .then((clip) => {
        this.state.setClip(clip);
        return true;
      })
      .catch((error) => {
        if (error.status === 404) this.state.removeClip(clipId);
        return false;
      })
      .finally(() => this.pending.delete(clipId));
    this.pending.set(clipId, request);
    return request;
  }

  async renewAll() {
    if (!this.state.clips.size) return;
    try {
      const clips = await listAll(`/api/projects/${this.state.project.id}/clips?page_size=200`);
      for (const clip of clips) this.state.clips.set(clip.id, clip);
      this.state.emit("clips");
    } catch {
      /* offline: the next round, or a failing element, renews them */
    }
  }
}
