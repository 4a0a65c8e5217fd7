// placeholder until the driver registry lands
namespace xnode::drivers {}
