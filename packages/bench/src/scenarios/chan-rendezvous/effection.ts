import { effectionOneToOne } from "../../shared/one-to-one.js";

export default effectionOneToOne();
