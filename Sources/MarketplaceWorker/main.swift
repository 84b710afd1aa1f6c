import Blytz
import Marketplace

await FunctionRuntime.run(Marketplace.functions)
