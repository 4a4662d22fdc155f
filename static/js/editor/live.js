// The editor's live socket (/ws/projects/:id/): job progress onto the library, the export dialog
// and the jobs panel; timeline saves from elsewhere; notifications. While the socket is down,
// clips still processing are polled instead, and caught up on when it comes back.
import { openSocket, toast } from "../api.js";
import { MESSAGE } from "../messages.js";

const PROCESSING = new Set([MESSAGE.PROCESSING_PROGRESS, MESSAGE.PROCESSING_COMPLETED, MESSAGE.PROCESSING_FAILED]);

export function connectLive({ projectId, state, library, autosave, panels, listeners = [] }) {
  const connState = document.getElementById("conn-state");
  let everOpen = false;
  let fallbackPoll = null;

  openSocket(`/ws/projects/${projectId}/`, {
    onState(s) {
      connState.hidden = s === "open" || !everOpen;
      if (s === "open") {
        if (everOpen) library.pollProcessing(); // catch up on what happened while disconnected
        everOpen = true;
        clearInterval(fallbackPoll);
        fallbackPoll = null;
      } else if (!fallbackPoll) {
        fallbackPoll = setInterval(() => library.pollProcessing(), 5000);
      }
    },
    onMessage(message) {
      // Panels outside this module (comments, history) hear every message first.
      for (const listener of listeners) listener(message);
      if (PROCESSING.has(message.type)) {
        for (const panel of panels) panel.onSocket(message);
        if (message.clip_id && state.clips.has(message.clip_id)) {
          if (message.type === MESSAGE.PROCESSING_PROGRESS) library.showProgress(message.clip_id, message.progress);
          else library.jobFinished(message.clip_id);
        }
      } else if (message.type === MESSAGE.TIMELINE_UPDATED) {
        autosave.theirsSaved(message.version);
      } else if (message.type === MESSAGE.NOTIFICATION && message.message) {
        toast(message.message, { level: message.level === "error" ? "error" : "info" });
      }
    },
  });

  // Even without any socket, clips still processing get refreshed now and then.
  setInterval(() => {
    if (!everOpen) library.pollProcessing();
  }, 6000);
}
