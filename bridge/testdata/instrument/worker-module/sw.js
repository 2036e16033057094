import { hello } from "./lib.js";
hello();
