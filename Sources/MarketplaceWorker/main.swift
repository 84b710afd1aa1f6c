import Blytz
import Marketplace

FunctionRuntime.main(Marketplace.functions)
