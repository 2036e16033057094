importScripts("helper.js");
self.log("classic worker started");
