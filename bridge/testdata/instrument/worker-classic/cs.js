console.log("content script");
