export { checkpoint, moveOnAfter, run, sleep, taskGroup, type Clock } from "../../src/index.js";
export { systemClock as systemClockForTest } from "../../src/lowlevel.js";
