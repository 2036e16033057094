// Package hub is the Go end of the wire: a loopback WebSocket server that
// every bridge realm of one browser (a service worker, an event page, a
// content-script world, an extension page, a native-messaging relay)
// connects to, authenticated by a per-launch 128-bit token.
//
// The server authenticates each connection by its first frame (a [Hello]),
// hands it to the [Handler] that [Options.Accept] returns for it, and then
// reads and writes frames for it:
//
//   - incoming, a realm sends [Frame] values, one per line of a WebSocket
//     message (a realm batches its events); replies to calls are matched to
//     the waiting [Conn.Call], everything else goes to [Handler.Frame] on the
//     connection's read loop, in order;
//   - outgoing, Go sends typed [Command] values with [Conn.Call] (with a
//     reply) and port traffic with [Conn.Post] and friends (without); what is
//     queued when the writer is busy leaves in one WebSocket message, as a
//     JSON array.
//
// Nothing user-supplied runs on a read loop: handlers only queue.
//
// Connections that have not proved they hold the token are bounded: at most
// [MaxUnauthenticated] at once (the oldest is dropped to make room, so a
// flood of idle connections cannot keep a real realm out), each for at most
// [HelloTimeout], and with a first frame of at most [HelloLimit] bytes.
package hub
