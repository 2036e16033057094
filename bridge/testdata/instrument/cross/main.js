window.mainWorld = true;
