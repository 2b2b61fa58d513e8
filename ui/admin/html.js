// One `html` tag for every view: htm turns tagged templates into Preact elements,
// so there is no JSX and no compile step beyond esbuild's bundling.
import { h } from "preact";
import htm from "htm";

export const html = htm.bind(h);
