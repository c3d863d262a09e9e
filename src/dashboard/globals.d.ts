/**
 * The page loads chart.js's UMD build with a plain <script> before its modules
 * (index.html: /dashboard/assets/chart.umd.js), and that build defines `window.Chart` with every
 * chart type, scale and element registered. Its types are the package's own.
 */
declare global {
  interface Window {
    Chart: typeof import('chart.js').Chart;
  }
}

export {};
