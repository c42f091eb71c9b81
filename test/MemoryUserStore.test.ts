import { MemoryUserStore } from "../src/testing.js"
import { conformanceSuite } from "./StoreConformanceSuite.js"

conformanceSuite("memory", MemoryUserStore.layer)
