// The build copies uPlot's ES module here (scripts/build-ui.mjs); its types are the package's own.
import uPlot from "uplot";

export default uPlot;
