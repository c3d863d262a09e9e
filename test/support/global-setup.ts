// Replaced by the integration-test setup (template database); unit tests need nothing.
export default function setup(): void {}
