// The server's websocket messages (API.md, "WebSocket"): the same list as realtime/messages.py,
// which builds every one of them (tests/test_architecture.py checks that the lists agree).
export const MESSAGE = Object.freeze({
  PROCESSING_PROGRESS: "processing:progress",
  PROCESSING_COMPLETED: "processing:completed",
  PROCESSING_FAILED: "processing:failed",
  UPLOAD_PROGRESS: "upload:progress",
  TIMELINE_UPDATED: "timeline:updated",
  TIMELINE_OP: "timeline:op",
  NOTIFICATION: "notification",
  COMMENT: "comment",
  COMMENT_UPDATED: "comment:updated",
  COMMENT_DELETED: "comment:deleted",
  PRESENCE: "presence",
  PRESENCE_JOIN: "presence:join",
  PRESENCE_UPDATE: "presence:update",
  PRESENCE_LEAVE: "presence:leave",
  PONG: "pong",
});
