import Blytz
import Payments

FunctionRuntime.main(Payments.functions)
