declare module 'node-red-node-test-helper' {
  const helper: any;
  export default helper;
}
