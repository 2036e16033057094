/* The id of the bridge realm of the world this runs in, or null: Eval in a
   content-script world or an extension page finds the world of a bridge
   realm by it. */
(() => { const b = globalThis.__extbridge; return b ? b.id : null; })()
