console.log("util");
