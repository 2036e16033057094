console.log("cs");
