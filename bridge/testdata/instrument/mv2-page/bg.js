console.log("bg page");
