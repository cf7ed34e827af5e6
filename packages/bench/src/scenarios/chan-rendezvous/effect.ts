import { effectOneToOne } from "../../shared/one-to-one.js";
import { CAPACITY } from "./scenario.js";

export default effectOneToOne(CAPACITY, "Queue.bounded(0): a rendezvous queue");
